"""Filesystem SDS: the edge's certificate and trust bundle, reloaded when the files change.

``write_envoy_config`` writes two SDS files next to the bootstrap, in ``<config dir>/sds/``:

- ``edge_cert.yaml``: secret ``edge_cert``, a ``TlsCertificate`` naming
  ``<cert_dir>/edge.crt`` and ``edge.key`` (the downstream certificate of ``edge_https`` and
  the client certificate of every upstream cluster);
- ``trusted_ca.yaml``: secret ``trusted_ca``, a ``CertificateValidationContext`` naming
  ``<cert_dir>/intermediate_ca.crt`` (``pkg.pki.MESH_TRUST_FILE``: the upstream clusters
  trust the current intermediate only, so a leaf of a rotated-out intermediate fails,
  docs/adr/0021).

Both secrets carry ``watched_directory: <cert_dir>``: Envoy re-reads the files whenever an
entry is moved into the certificate directory, which is how ``pkg.pki`` replaces every file
(temporary file + ``os.replace``), and reads certificate and key together, checking that
neither changed in between. The ``path_config_source`` of each secret watches the SDS folder
itself, so the SDS files are only ever replaced by a rename there too. A key written before
its certificate (the order ``pkg.pki`` uses) makes one update fail (key mismatch); Envoy logs
it, keeps serving the previous pair and takes the pair once the certificate follows.
See docs/adr/0011-certificate-reload.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pkg.pki import MESH_TRUST_FILE, write_atomic

EDGE_CERT_SDS = "edge_cert"
TRUSTED_CA_SDS = "trusted_ca"
SDS_FOLDER = "sds"
_SDS_RESOURCE_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


def tls_certificate(cert_dir: Path, name: str = "edge") -> dict[str, Any]:
    """A ``TlsCertificate`` from ``<cert_dir>/<name>.crt`` (leaf + chain) and ``.key``."""
    return {
        "certificate_chain": {"filename": str(cert_dir / f"{name}.crt")},
        "private_key": {"filename": str(cert_dir / f"{name}.key")},
    }


def sds_secrets(cert_dir: Path) -> dict[str, dict[str, Any]]:
    """The SDS files' contents by file name (``edge_cert.yaml``, ``trusted_ca.yaml``).

    Each is a ``DiscoveryResponse``-shaped document with one ``Secret`` resource, as
    ``path_config_source`` expects.
    """
    watched = {"path": str(cert_dir)}
    edge_cert = {
        "@type": _SDS_RESOURCE_TYPE,
        "name": EDGE_CERT_SDS,
        "tls_certificate": {**tls_certificate(cert_dir), "watched_directory": watched},
    }
    trusted_ca = {
        "@type": _SDS_RESOURCE_TYPE,
        "name": TRUSTED_CA_SDS,
        "validation_context": {
            "trusted_ca": {"filename": str(cert_dir / MESH_TRUST_FILE)},
            "watched_directory": watched,
        },
    }
    return {f"{secret['name']}.yaml": {"resources": [secret]} for secret in (edge_cert, trusted_ca)}


def sds_secret_config(name: str, sds_dir: Path) -> dict[str, Any]:
    """An ``SdsSecretConfig`` for secret ``name`` read from ``<sds_dir>/<name>.yaml``."""
    return {
        "name": name,
        "sds_config": {
            "path_config_source": {
                "path": str(sds_dir / f"{name}.yaml"),
                "watched_directory": {"path": str(sds_dir)},
            },
            "resource_api_version": "V3",
        },
    }


def write_sds_files(sds_dir: Path, cert_dir: Path) -> list[Path]:
    """Write ``sds_secrets(cert_dir)`` into ``sds_dir`` (created if missing), each file
    atomically (``pkg.pki.write_atomic``, mode 0644: file names only, no secret); return
    their paths."""
    sds_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in sds_secrets(cert_dir).items():
        path = sds_dir / name
        write_atomic(
            path, yaml.safe_dump(document, sort_keys=False, width=120).encode(), mode=0o644
        )
        written.append(path)
    return written
