"""The operator's view of the running mesh: ``agora status`` and ``mesh.json``."""

from __future__ import annotations

import pytest

from ._mesh import Mesh, agora

pytestmark = pytest.mark.e2e


def test_status_reports_every_program(mesh: Mesh) -> None:
    result = agora("status", "--data-dir", str(mesh.data_dir), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    programs = [*mesh.worker_programs("auth"), *mesh.worker_programs("user"), "edge"]
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    for program in programs:
        assert program in lines and "ready" in lines[program], result.stdout
    for name in ("auth", "user"):
        for program, port in zip(mesh.worker_programs(name), mesh.worker_ports(name), strict=True):
            assert str(port) in lines[program], result.stdout
    assert str(mesh.edge_port) in result.stdout, result.stdout


def test_mesh_json_names_distinct_ports(mesh: Mesh) -> None:
    ports = mesh.state["ports"]
    flat = [
        ports["edge"],
        ports["jwks"],
        ports["postgres"],
        ports["redis"],
        *(port for ports_of in ports["workers"].values() for port in ports_of),
    ]
    assert all(len(workers) >= 1 for workers in ports["workers"].values()), ports
    assert {name: workers[0] for name, workers in ports["workers"].items()} == ports["services"]
    assert len(set(flat)) == len(flat), ports
    assert mesh.root_ca.is_file()
    for identity in ("auth", "user", "edge", "cli"):
        assert (mesh.cert_dir / f"{identity}.crt").is_file()
        assert (mesh.cert_dir / f"{identity}.key").stat().st_mode & 0o077 == 0
