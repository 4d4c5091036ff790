"""The operator's view of the running mesh: ``agora status`` and ``mesh.json``."""

from __future__ import annotations

import pytest

from ._mesh import Mesh, agora

pytestmark = pytest.mark.e2e


def test_status_reports_every_program(mesh: Mesh) -> None:
    result = agora("status", "--data-dir", str(mesh.data_dir), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    for program in ("auth", "user", "edge"):
        assert program in result.stdout, result.stdout
    assert str(mesh.edge_port) in result.stdout, result.stdout


def test_mesh_json_names_distinct_ports(mesh: Mesh) -> None:
    ports = mesh.state["ports"]
    flat = [ports["edge"], ports["admin"], ports["jwks"], ports["postgres"], ports["redis"],
            *ports["services"].values()]
    assert len(set(flat)) == len(flat), ports
    assert mesh.root_ca.is_file()
    for identity in ("auth", "user", "edge", "cli"):
        assert (mesh.cert_dir / f"{identity}.crt").is_file()
        assert (mesh.cert_dir / f"{identity}.key").stat().st_mode & 0o077 == 0
