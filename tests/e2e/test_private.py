"""The running mesh is its operator's alone: no other local account reads its secrets or
logs, reaches Envoy's admin, or talks to PostgreSQL and Redis without their passwords."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys

import psycopg
import pytest
import redis

from pkg.runtime._accounts import running_as_root

from ._mesh import Mesh

pytestmark = pytest.mark.e2e

_OTHER_USER = r"""
import json, os, socket, sys
data, admin = sys.argv[1:3]
def attempt(action):
    try:
        action()
    except PermissionError:
        return "denied"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "allowed"
def admin_connect():
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(admin)
print(json.dumps({
    "data_dir": attempt(lambda: os.listdir(data)),
    "secret": attempt(lambda: open(os.path.join(data, "secrets", "postgres.password")).read()),
    "user_log": attempt(lambda: open(os.path.join(data, "logs", "user-1.log")).read()),
    "supervisord_conf": attempt(lambda: open(os.path.join(data, "supervisord.conf")).read()),
    "admin": attempt(admin_connect),
}))
"""


def test_service_logs_and_state_files_are_mode_0600(mesh: Mesh) -> None:
    files = [
        mesh.data_dir / "mesh.json",
        mesh.data_dir / "supervisord.conf",
        *mesh.logs.iterdir(),
        *(mesh.data_dir / "secrets").iterdir(),
    ]
    assert mesh.logs / "user-1.log" in files
    loose = {
        str(p): oct(stat.S_IMODE(p.stat().st_mode))
        for p in files
        if stat.S_IMODE(p.stat().st_mode) != 0o600
    }
    assert loose == {}
    assert stat.S_IMODE(mesh.data_dir.stat().st_mode) & 0o067 == 0


def test_databases_of_the_services_need_the_password(mesh: Mesh) -> None:
    ports = mesh.state["ports"]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{ports['postgres']}/agora_user", connect_timeout=5
        ).close()
    anonymous = redis.Redis(host="127.0.0.1", port=ports["redis"], socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.keys("*")
    anonymous.close()
    with psycopg.connect(mesh.database_url, connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    user_env = mesh.service_env("user")
    assert ":***@" not in user_env["AGORA_USER_DATABASE_URL"]
    with psycopg.connect(
        user_env["AGORA_USER_DATABASE_URL"].replace("+psycopg", ""), connect_timeout=5
    ) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("agora_user",)


def test_the_edge_admin_is_a_unix_socket_of_mode_0600(mesh: Mesh) -> None:
    admin = mesh.admin_socket
    assert stat.S_ISSOCK(admin.lstat().st_mode)
    assert stat.S_IMODE(admin.lstat().st_mode) == 0o600
    assert "admin" not in mesh.state["ports"]


@pytest.mark.skipif(
    not running_as_root() or shutil.which("setpriv") is None,
    reason="playing another local user needs root and setpriv",
)
def test_another_local_user_is_kept_out(mesh: Mesh) -> None:
    probe = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-I",
            "-c",
            _OTHER_USER,
            str(mesh.data_dir),
            str(mesh.admin_socket),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == dict.fromkeys(
        ("data_dir", "secret", "user_log", "supervisord_conf", "admin"), "denied"
    )
