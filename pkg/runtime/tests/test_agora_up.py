"""``agora up --detach``, ``agora status`` and ``agora down`` on a temporary data directory.

Three profiles: the infrastructure alone (PostgreSQL, Redis), plus the edge (needs
``pkg.edge`` and ``pkg.pki``), and the whole mesh (also needs ``services.auth`` and
``services.user``). A profile whose parts are missing is skipped with their names.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pkg.runtime import SERVICES, free_port, mesh_status, read_mesh_state
from pkg.runtime._mesh import default_workers
from pkg.runtime._ports import port_is_free
from pkg.runtime.tests._processes import alive, mentioning

pytestmark = pytest.mark.integration

PROFILES = {
    "infra": (["--services", "", "--no-edge"], ["pkg.runtime"]),
    "infra+edge": (["--services", ""], ["pkg.edge", "pkg.pki"]),
    "mesh": ([], ["pkg.edge", "pkg.pki", *(s.module for s in SERVICES)]),
}


def _agora(*args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL") and not key.startswith("AGORA_")
    }
    return subprocess.run(
        [sys.executable, "-m", "pkg.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _port_base() -> int:
    ports = [s.port_offset + 10 * i for s in SERVICES for i in range(default_workers())]
    for _ in range(50):
        base = free_port() - 1
        if all(port_is_free("127.0.0.1", base + offset) for offset in ports):
            return base
    raise AssertionError("no free port block for the services' workers")


def _missing(modules: list[str]) -> list[str]:
    missing = []
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                missing.append(module)
        except ImportError:
            missing.append(module)
    return missing


@pytest.mark.parametrize("profile", list(PROFILES))
def test_up_detach_status_down_leaves_nothing_running(tmp_path: Path, profile: str) -> None:
    options, needs = PROFILES[profile]
    missing = _missing(needs)
    assert not missing, f"profile {profile} needs {', '.join(missing)}: a broken install"
    data = tmp_path / "mesh"
    started = time.monotonic()
    up = _agora(
        "up",
        "--detach",
        "--data-dir",
        str(data),
        "--edge-port",
        str(free_port()),
        "--port-base",
        str(_port_base()),
        *options,
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        cold_start = time.monotonic() - started
        state = read_mesh_state(data)
        assert "Agora is up." in up.stdout
        assert str(data / "logs") in up.stdout
        if "user" in state["services"]:
            assert (data / "user").is_dir()  # AGORA_USER_JWKS_CACHE_FILE's folder
        if state["edge"]:
            assert f"--cacert {data / 'certs' / 'root_ca.crt'}" in up.stdout
            assert f"https://localhost:{state['ports']['edge']}" in up.stdout

        status = _agora("status", "--data-dir", str(data))
        assert status.returncode == 0, status.stdout + status.stderr
        statuses = mesh_status(data)
        assert statuses is not None
        expected = {p["name"] for p in state["programs"]}
        assert {s.name for s in statuses} == expected
        for s in statuses:
            assert s.state == ("EXITED" if s.name.startswith("migrate-") else "RUNNING"), s
            assert s.ready in (True, None), s
        supervisord = int((data / "supervisord.pid").read_text())
        pids = [supervisord, *(s.pid for s in statuses if s.pid)]
        print(f"{profile}: healthy after {cold_start:.1f} s; programs {sorted(expected)}")
    finally:
        down = _agora("down", "--data-dir", str(data))
    assert down.returncode == 0, down.stdout + down.stderr
    assert "stopped the mesh" in down.stdout
    assert alive(pids) == []
    assert mentioning(data) == []
    after = _agora("status", "--data-dir", str(data))
    assert after.returncode == 3
    assert "no mesh is running" in after.stdout


def test_a_failed_start_shows_the_log_and_stops_everything(tmp_path: Path) -> None:
    data = tmp_path / "mesh"
    pgdata = data / "postgres"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("18\n")  # a cluster PostgreSQL cannot open
    (pgdata / "pg_hba.conf").write_text("host all all 127.0.0.1/32 scram-sha-256\n")
    (data / "secrets").mkdir(mode=0o700)
    (data / "secrets" / "postgres.password").write_text("0123456789abcdef\n")
    up = _agora(
        "up",
        "--detach",
        "--data-dir",
        str(data),
        "--edge-port",
        str(free_port()),
        "--port-base",
        str(_port_base()),
        "--services",
        "",
        "--no-edge",
        "--timeout",
        "20",
    )
    assert up.returncode == 1, up.stdout + up.stderr
    assert "Failed to start postgres" in up.stderr
    assert f"last lines of {data / 'logs' / 'postgres.log'}" in up.stderr
    assert "postgresql.conf" in up.stderr  # PostgreSQL's own complaint, from the log
    assert mentioning(data) == []
    assert not (data / "supervisor.sock").exists()
    assert json.loads((data / "mesh.json").read_text())["database_embedded"] is True


def test_a_cluster_that_cannot_be_secured_is_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "mesh"
    (data / "postgres").mkdir(parents=True)
    (data / "postgres" / "PG_VERSION").write_text("18\n")  # trust-era cluster, broken
    up = _agora(
        "up",
        "--detach",
        "--data-dir",
        str(data),
        "--edge-port",
        str(free_port()),
        "--port-base",
        str(_port_base()),
        "--services",
        "",
        "--no-edge",
    )
    assert up.returncode == 1, up.stdout + up.stderr
    assert up.stderr.startswith(
        f"agora up: PostgreSQL in {data / 'postgres'}: setting the password"
    ), up.stderr
    assert "Traceback" not in up.stderr
    assert mentioning(data) == []


def test_a_second_up_on_a_running_mesh_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "mesh"
    args = (
        "--data-dir",
        str(data),
        "--edge-port",
        str(free_port()),
        "--port-base",
        str(_port_base()),
        "--services",
        "",
        "--no-edge",
    )
    first = _agora("up", "--detach", *args)
    try:
        assert first.returncode == 0, first.stdout + first.stderr
        second = _agora("up", "--detach", *args)
        assert second.returncode == 1
        assert "already runs" in second.stderr
    finally:
        _agora("down", "--data-dir", str(data))
    assert mentioning(data) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_foreground_up_stops_everything_on_a_signal(tmp_path: Path, signum: int) -> None:
    data = tmp_path / "mesh"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL") and not key.startswith("AGORA_")
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pkg.cli.main",
            "up",
            "--data-dir",
            str(data),
            "--edge-port",
            str(free_port()),
            "--port-base",
            str(_port_base()),
            "--services",
            "",
            "--no-edge",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        assert any("Press Ctrl-C" in line for line in lines), "".join(lines)
        statuses = mesh_status(data)
        assert statuses is not None
        pids = [int((data / "supervisord.pid").read_text()), *(s.pid for s in statuses)]
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(lines) + rest
    assert "Stopped." in rest
    assert alive(pids) == []
    assert mentioning(data) == []


def test_down_stops_the_programs_of_a_killed_supervisord(tmp_path: Path) -> None:
    data = tmp_path / "mesh"
    args = (
        "--data-dir",
        str(data),
        "--edge-port",
        str(free_port()),
        "--port-base",
        str(_port_base()),
        "--services",
        "",
        "--no-edge",
    )
    up = _agora("up", "--detach", *args)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        statuses = mesh_status(data)
        assert statuses is not None
        pids = [s.pid for s in statuses if s.pid]
        os.kill(int((data / "supervisord.pid").read_text()), signal.SIGKILL)
        time.sleep(0.5)

        status = _agora("status", "--data-dir", str(data))
        again = _agora("up", "--detach", *args)
    finally:
        down = _agora("down", "--data-dir", str(data))
    assert status.returncode == 1 and "still run" in status.stderr, status.stderr
    assert again.returncode == 1 and "`agora down` stops them" in again.stderr, again.stderr
    assert down.returncode == 0 and "stopped the mesh" in down.stdout, down.stdout + down.stderr
    assert alive(pids) == []
    assert mentioning(data) == []
