"""Fixtures: a development CA and a filled certificate directory in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pkg.pki import DevelopmentCA, ensure_mesh_certificates

MESH_NAMES = ("auth", "user", "cli")


@pytest.fixture
def ca(tmp_path: Path) -> DevelopmentCA:
    return DevelopmentCA(tmp_path / "pki")


@pytest.fixture
def cert_dir(tmp_path: Path, ca: DevelopmentCA) -> Path:
    directory = tmp_path / "certs"
    ensure_mesh_certificates(ca, directory, MESH_NAMES)
    return directory
