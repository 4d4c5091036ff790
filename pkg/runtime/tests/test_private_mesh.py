"""``agora up`` keeps the mesh to the user who runs it: files, PostgreSQL, Redis, Envoy admin.

Started with the edge and no services (the quickest mesh with every server in it). As root,
another local account is played by ``nobody`` through ``setpriv``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import redis

from pkg.runtime import MeshLayout, free_port, read_mesh_state
from pkg.runtime._accounts import as_account, hand_over, running_as_root, service_account
from pkg.runtime._health import envoy_ready
from pkg.runtime._postgres import postgres_bin_dir
from pkg.runtime.tests._processes import mentioning
from pkg.runtime.tests.test_agora_up import _agora, _port_base

pytestmark = pytest.mark.integration

_PROBE = r"""
import json, os, socket, sys
data, secret, admin = sys.argv[1:4]
out = {}
def attempt(name, action):
    try:
        action()
        out[name] = "allowed"
    except PermissionError:
        out[name] = "denied"
    except OSError as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
attempt("list_data_dir", lambda: os.listdir(data))
attempt("read_secret", lambda: open(secret).read())
attempt("read_log", lambda: open(os.path.join(data, "logs", "redis.log")).read())
def admin_connect():
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(admin)
attempt("admin_socket", admin_connect)
print(json.dumps(out))
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(scope="module")
def private_mesh() -> Iterator[tuple[Path, dict[str, Any]]]:
    """A detached mesh with the edge and no services, outside pytest's temp tree (which
    each pytest session resets, cutting off the unprivileged PostgreSQL account)."""
    base = Path(tempfile.mkdtemp(prefix="agora-private-"))
    data = base / "mesh"
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
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield data, read_mesh_state(data)
    finally:
        _agora("down", "--data-dir", str(data))
        assert mentioning(data) == []
        shutil.rmtree(base, ignore_errors=True)


def test_files_of_the_mesh_are_its_users_alone(private_mesh: tuple[Path, Any]) -> None:
    data, _ = private_mesh
    layout = MeshLayout.at(data)
    assert _mode(data) & 0o067 == 0, oct(_mode(data))  # 0700, or 0710 for setpriv's group
    for folder in (layout.logs, layout.secrets, layout.redis, layout.envoy_config.parent):
        assert _mode(folder) == 0o700, folder
    files = [
        layout.mesh_file,
        layout.supervisord_conf,
        *layout.logs.iterdir(),
        *layout.secrets.iterdir(),
    ]
    assert {p.name for p in layout.secrets.iterdir()} >= {
        "postgres.password",
        "redis.password",
        "redis.conf",
    }
    assert any(p.suffix == ".log" for p in files)
    for path in files:
        assert _mode(path) == 0o600, f"{path}: {oct(_mode(path))}"


def test_mesh_json_names_no_password(private_mesh: tuple[Path, Any]) -> None:
    data, state = private_mesh
    text = (data / "mesh.json").read_text()
    for name in ("postgres.password", "redis.password"):
        assert (data / "secrets" / name).read_text().strip() not in text
    assert ":***@" in state["database_url"] and ":***@" in state["redis_url"]


def test_postgres_and_redis_refuse_clients_without_the_password(
    private_mesh: tuple[Path, Any],
) -> None:
    data, state = private_mesh
    ports = state["ports"]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{ports['postgres']}/postgres", connect_timeout=5
        ).close()
    anonymous = redis.Redis(host="127.0.0.1", port=ports["redis"], socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.get("anything")
    anonymous.close()

    password = (data / "secrets" / "postgres.password").read_text().strip()
    with psycopg.connect(
        f"postgresql://postgres:{password}@127.0.0.1:{ports['postgres']}/postgres",
        connect_timeout=5,
    ) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    client = redis.Redis(
        host="127.0.0.1",
        port=ports["redis"],
        socket_timeout=5,
        password=(data / "secrets" / "redis.password").read_text().strip(),
    )
    assert client.ping()
    client.close()


def test_envoy_admin_is_a_private_unix_socket_not_a_tcp_port(
    private_mesh: tuple[Path, Any],
) -> None:
    data, state = private_mesh
    admin = Path(state["admin_socket"])
    assert admin == data / "envoy" / "admin.sock"
    assert stat.S_ISSOCK(admin.lstat().st_mode)
    assert _mode(admin) == 0o600
    assert envoy_ready(admin)
    assert "admin" not in state["ports"]

    envoy = next(
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "envoy" and str(data) in " ".join(p.info["cmdline"])
    )
    listening = {
        c.laddr.port for c in envoy.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
    }
    assert listening == {state["ports"]["edge"], state["ports"]["jwks"]}


@pytest.mark.skipif(
    not running_as_root() or shutil.which("setpriv") is None,
    reason="playing another local user needs root and setpriv",
)
def test_another_local_user_reaches_no_secret_log_or_admin(private_mesh: tuple[Path, Any]) -> None:
    data, state = private_mesh
    probe = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-I",
            "-c",
            _PROBE,
            str(data),
            str(data / "secrets" / "postgres.password"),
            state["admin_socket"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == {
        "list_data_dir": "denied",
        "read_secret": "denied",
        "read_log": "denied",
        "admin_socket": "denied",
    }


def test_an_older_open_data_directory_is_narrowed_and_its_cluster_secured() -> None:
    base = Path(tempfile.mkdtemp(prefix="agora-legacy-"))
    data = base / "mesh"
    pgdata = data / "postgres"
    try:
        (data / "logs").mkdir(parents=True)
        os.chmod(data, 0o755)  # noqa: S103 (what an older agora left)
        old_log = data / "logs" / "postgres.log"
        old_log.write_text("written by an older agora\n")
        os.chmod(old_log, 0o644)
        pgdata.mkdir(mode=0o700)
        account = service_account()
        hand_over(pgdata, account)
        bin_dir = postgres_bin_dir()
        subprocess.run(
            as_account(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "--no-instructions",
                ],
                account,
            ),
            check=True,
            capture_output=True,
            cwd="/",
        )
        subprocess.run(
            as_account(
                [str(bin_dir / "postgres"), "--single", "-D", str(pgdata), "postgres"], account
            ),
            input=b"CREATE TABLE kept (v int);\nINSERT INTO kept VALUES (3);\n",
            check=True,
            capture_output=True,
            cwd="/",
        )

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
        try:
            assert up.returncode == 0, up.stdout + up.stderr
            port = read_mesh_state(data)["ports"]["postgres"]
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(
                    f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=5
                ).close()
            password = (data / "secrets" / "postgres.password").read_text().strip()
            with psycopg.connect(
                f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres", connect_timeout=5
            ) as conn:
                assert conn.execute("SELECT v FROM kept").fetchone() == (3,)
            assert _mode(data) & 0o067 == 0
            assert _mode(old_log) == 0o600
        finally:
            _agora("down", "--data-dir", str(data))
        assert mentioning(data) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)
