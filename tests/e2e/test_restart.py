"""``agora restart``: a service's workers restart one at a time and come back healthy."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from pkg.runtime import MeshLayout, Supervisor, edge_host_health, mesh_status
from pkg.runtime._health import grpc_health

from ._api import login, random_email, register
from ._mesh import E2E_WORKERS, Mesh, agora, ssl_context

pytestmark = pytest.mark.e2e


def _pids(mesh: Mesh, service: str) -> dict[str, int]:
    statuses = mesh_status(mesh.data_dir)
    assert statuses is not None
    workers = set(mesh.worker_programs(service))
    return {s.name: s.pid for s in statuses if s.name in workers}


def _wait_until_ready(mesh: Mesh, service: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = mesh_status(mesh.data_dir) or []
        workers = [s for s in statuses if s.name in mesh.worker_programs(service)]
        if workers and all(s.ready for s in workers):
            return
        time.sleep(0.5)
    raise AssertionError(f"{service} not ready again:\n{mesh.log_tails()}")


def test_an_unknown_service_is_refused(mesh: Mesh) -> None:
    result = agora("restart", "zzunused", "--data-dir", str(mesh.data_dir), timeout=60)
    assert result.returncode == 1
    running = ", ".join(sorted(mesh.state["workers"]))
    assert f"'zzunused' is not a service of this mesh (running: {running})" in result.stderr


def test_a_worker_that_is_not_back_in_time_fails_the_restart(mesh: Mesh) -> None:
    first = mesh.worker_programs("auth")[0]
    # supervisord reports RUNNING only 1 s (startsecs) after a start: never within 0 s.
    result = agora(
        "restart", "auth", "--timeout", "0", "--data-dir", str(mesh.data_dir), timeout=120
    )
    try:
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"{first} did not come back: not SERVING 0 s after its start" in result.stderr
        assert f"last lines of {mesh.logs / f'{first}.log'}" in result.stderr
        assert f"{mesh.worker_programs('auth')[1]}: stopping" not in result.stdout
    finally:
        _wait_until_ready(mesh, "auth")


class _HealthSampler(threading.Thread):
    """Asks every worker of a service for its health, again and again, until stopped;
    ``none_serving`` counts the rounds in which no worker answered SERVING."""

    def __init__(self, mesh: Mesh, service: str) -> None:
        super().__init__(daemon=True)
        self.addresses = [f"127.0.0.1:{port}" for port in mesh.worker_ports(service)]
        self.cert_dir = mesh.cert_dir
        self.rounds = 0
        self.none_serving = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            answers = [
                grpc_health(address, self.cert_dir, timeout=2.0) for address in self.addresses
            ]
            self.rounds += 1
            self.none_serving += "SERVING" not in answers
            self.done.wait(0.1)


def test_rolling_restart_replaces_every_worker_and_keeps_the_edge_routing(
    mesh: Mesh, http: httpx.Client
) -> None:
    before = _pids(mesh, "user")
    assert len(before) == E2E_WORKERS, f"`agora up --workers {E2E_WORKERS}` ran {before}"
    sampler = _HealthSampler(mesh, "user")
    sampler.start()
    try:
        result = agora("restart", "user", "--data-dir", str(mesh.data_dir), timeout=300)
    finally:
        sampler.done.set()
        sampler.join()

    assert result.returncode == 0, result.stdout + result.stderr + mesh.log_tails()
    after = _pids(mesh, "user")
    assert set(after) == set(before)
    assert all(after[name] and after[name] != before[name] for name in before), (before, after)
    lines = result.stdout.splitlines()
    order = [
        line.split(":")[0].strip() for line in lines if line.endswith("...") and "stopping" in line
    ]
    assert order == mesh.worker_programs("user")
    assert sampler.rounds > 0 and sampler.none_serving == 0, (
        f"no user worker was SERVING in {sampler.none_serving} of {sampler.rounds} rounds"
    )
    for port in mesh.worker_ports("user"):
        assert grpc_health(f"127.0.0.1:{port}", mesh.cert_dir) == "SERVING"
        assert edge_host_health(mesh.admin_socket, port) == ["healthy"]
    email = random_email()
    register(http, email)
    assert login(http, email)["accessToken"]


def test_a_stopped_worker_is_started_and_the_gap_is_reported(mesh: Mesh) -> None:
    first, second = mesh.worker_programs("auth")[:2]
    Supervisor(MeshLayout.at(mesh.data_dir)).stop(second)
    try:
        result = agora("restart", "auth", "--data-dir", str(mesh.data_dir), timeout=300)
    finally:
        _wait_until_ready(mesh, "auth")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"warning: no other worker of auth is SERVING: auth is unavailable while {first} restarts"
    ) in result.stdout
    assert f"{second}: stopping (pid -, draining)" in result.stdout
    assert all(pid for pid in _pids(mesh, "auth").values())


def test_restart_edge_replaces_envoy_and_it_serves_again(mesh: Mesh) -> None:
    def edge_pid() -> int:
        statuses = mesh_status(mesh.data_dir) or []
        return next(s.pid for s in statuses if s.name == "edge")

    before = edge_pid()
    result = agora("restart", "edge", "--data-dir", str(mesh.data_dir), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr + mesh.log_tails()
    assert edge_pid() not in (0, before)
    with httpx.Client(verify=ssl_context(mesh.root_ca), timeout=15) as client:
        response = client.get(f"{mesh.edge_url}/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    assert response.json()["keys"]
