"""Filesystem SDS: the written bootstrap serves the edge certificate and the upstream trust
bundle from SDS files, and a real Envoy picks up a renewed edge certificate without restart."""

from __future__ import annotations

import asyncio
import json
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography import x509

from pkg.edge import EDGE_LISTENER, write_envoy_config
from pkg.pki import DevelopmentCA, ensure_mesh_certificates
from pkg.runtime import SERVICES

from .conftest import envoy_validate
from .test_edge_run import _running_edge

ENDPOINTS = {spec.name: [("127.0.0.1", 50050 + spec.port_offset)] for spec in SERVICES}


def _fresh_pki(base: Path) -> tuple[DevelopmentCA, Path]:
    ca = DevelopmentCA(base / "pki")
    ensure_mesh_certificates(ca, base / "certs", ["edge", "auth", "user", "cli"])
    return ca, base / "certs"


def _serial(cert_dir: Path, name: str) -> int:
    return x509.load_pem_x509_certificate((cert_dir / f"{name}.crt").read_bytes()).serial_number


def test_the_written_config_serves_certificates_through_filesystem_sds(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    path = write_envoy_config(
        tmp_path / "envoy" / "envoy.yaml",
        descriptor_set=descriptor_set,
        cert_dir=cert_dir,
        endpoints=ENDPOINTS,
    )
    config = yaml.safe_load(path.read_text())
    sds = tmp_path / "envoy" / "sds"
    edge = next(li for li in config["static_resources"]["listeners"] if li["name"] == EDGE_LISTENER)
    downstream = edge["filter_chains"][0]["transport_socket"]["typed_config"]["common_tls_context"]
    auth = next(c for c in config["static_resources"]["clusters"] if c["name"] == "auth")
    upstream = auth["transport_socket"]["typed_config"]["common_tls_context"]
    edge_cert = {
        "name": "edge_cert",
        "sds_config": {
            "path_config_source": {
                "path": str(sds / "edge_cert.yaml"),
                "watched_directory": {"path": str(sds)},
            },
            "resource_api_version": "V3",
        },
    }
    (secret,) = yaml.safe_load((sds / "edge_cert.yaml").read_text())["resources"]
    (trust,) = yaml.safe_load((sds / "trusted_ca.yaml").read_text())["resources"]

    assert "tls_certificates" not in downstream and "tls_certificates" not in upstream
    assert downstream["tls_certificate_sds_secret_configs"] == [edge_cert]
    assert upstream["tls_certificate_sds_secret_configs"] == [edge_cert]
    combined = upstream["combined_validation_context"]
    assert combined["validation_context_sds_secret_config"]["name"] == "trusted_ca"
    assert combined["default_validation_context"]["match_typed_subject_alt_names"] == [
        {"san_type": "URI", "matcher": {"exact": "spiffe://agora.local/auth"}}
    ]
    assert secret["tls_certificate"] == {
        "certificate_chain": {"filename": str(cert_dir / "edge.crt")},
        "private_key": {"filename": str(cert_dir / "edge.key")},
        "watched_directory": {"path": str(cert_dir)},
    }
    assert trust["validation_context"] == {
        "trusted_ca": {"filename": str(cert_dir / "intermediate_ca.crt")},
        "watched_directory": {"path": str(cert_dir)},
    }
    assert not list(sds.glob(".*")), "no temporary files left behind"
    result = envoy_validate(path)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]


async def _presented_serial(address: str, root_ca: Path) -> int:
    host, _, port = address.rpartition(":")
    context = ssl.create_default_context(cafile=str(root_ca))
    _, writer = await asyncio.open_connection(host, int(port), ssl=context, server_hostname=host)
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
    return x509.load_der_x509_certificate(der).serial_number


async def _admin_serials(admin: str) -> set[int]:
    """Serials of every certificate chain Envoy has loaded (listener and clusters)."""
    async with httpx.AsyncClient() as client:
        body: dict[str, Any] = json.loads((await client.get(f"http://{admin}/certs")).text)
    return {
        int(chain["serial_number"], 16)
        for entry in body["certificates"]
        for chain in entry.get("cert_chain", [])
    }


async def test_envoy_presents_a_renewed_edge_certificate_without_restart(
    descriptor_set: Path, tmp_path: Path
) -> None:
    ca, certs = _fresh_pki(tmp_path)
    old = _serial(certs, "edge")
    async with _running_edge(descriptor_set, certs, tmp_path / "envoy") as edge:
        admin = yaml.safe_load((tmp_path / "envoy" / "envoy.yaml").read_text())["admin"]
        admin_address = "{address}:{port_value}".format(**admin["address"]["socket_address"])
        before = await _presented_serial(edge.address, edge.root_ca)
        loaded_before = await _admin_serials(admin_address)

        later = datetime.now(UTC) + timedelta(hours=20)
        assert ensure_mesh_certificates(ca, certs, ["edge"], clock=lambda: later) == ["edge"]
        new = _serial(certs, "edge")
        after = before
        for _ in range(200):  # bounded wait for the inotify-driven reload
            after = await _presented_serial(edge.address, edge.root_ca)
            if after == new:
                break
            await asyncio.sleep(0.05)
        loaded_after = await _admin_serials(admin_address)
        for _ in range(100):
            if loaded_after == {new}:
                break
            await asyncio.sleep(0.05)
            loaded_after = await _admin_serials(admin_address)
        async with edge.client() as client:
            jwks = await client.get("/.well-known/jwks.json")  # upstream mTLS still works

    assert new != old
    assert (before, loaded_before) == (old, {old})
    assert after == new
    assert loaded_after == {new}, "listener and upstream clusters present the renewed leaf"
    assert jwks.status_code == 200
