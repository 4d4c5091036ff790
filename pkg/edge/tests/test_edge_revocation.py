"""A real Envoy refuses an upstream presenting a leaf of a rotated-out intermediate.

``agora certs --rotate-intermediate`` replaces the intermediate and every leaf; the edge's
trust bundle (SDS ``trusted_ca``) is the current intermediate only, so a kept copy of the old
``auth`` leaf no longer passes Envoy's upstream handshake, while the reissued one does.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import yaml

from pkg.cli.main import main

from .stub_auth import StubAuth, start_stub_auth
from .test_edge_run import _running_edge


async def _stat(admin: str, name: str) -> int:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://{admin}/stats", params={"filter": name})).text
    values = [int(line.split(": ")[1]) for line in text.splitlines() if line.split(": ")[0] == name]
    return sum(values)


async def _jwks_status(client: httpx.AsyncClient) -> int:
    return (await client.get("/.well-known/jwks.json")).status_code


async def test_envoy_refuses_an_upstream_leaf_of_the_old_intermediate(
    descriptor_set: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    assert main(["certs", "--data-dir", str(data)]) == 0
    stolen = shutil.copytree(data / "certs", tmp_path / "stolen")
    assert main(["certs", "--data-dir", str(data), "--rotate-intermediate"]) == 0
    certs = data / "certs"

    async with _running_edge(descriptor_set, certs, tmp_path / "envoy", auth_up=False) as edge:
        admin_address = yaml.safe_load((tmp_path / "envoy" / "envoy.yaml").read_text())["admin"]
        admin = "{address}:{port_value}".format(**admin_address["address"]["socket_address"])
        failures = "cluster.auth.ssl.fail_verify_error"
        impostor, _ = await start_stub_auth(stolen, StubAuth(), port=edge.auth_port)
        try:
            refused = 0
            for _ in range(200):  # bounded: Envoy health-checks auth every second
                refused = await _stat(admin, failures)
                if refused:
                    break
                await asyncio.sleep(0.05)
            async with edge.client() as client:
                with_old_leaf = await _jwks_status(client)
        finally:
            await impostor.stop(None)

        genuine, _ = await start_stub_auth(certs, StubAuth(), port=edge.auth_port)
        try:
            async with edge.client() as client:
                with_new_leaf = with_old_leaf
                for _ in range(200):
                    with_new_leaf = await _jwks_status(client)
                    if with_new_leaf == 200:
                        break
                    await asyncio.sleep(0.05)
        finally:
            await genuine.stop(None)
        refused_after = await _stat(admin, failures)

    assert refused > 0, "Envoy never refused the old auth leaf's chain"
    assert with_old_leaf == 503
    assert with_new_leaf == 200, "the reissued auth leaf passes"
    assert refused_after >= refused
