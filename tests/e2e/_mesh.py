"""Driving a real mesh from the outside: ``agora up/down``, ``mesh.json``, logs, processes.

Only the operator's interface is used (the ``agora`` console script, files in the data
directory), so these tests see what a user of ``agora up`` sees.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pkg.runtime import program_environment

REPO = Path(__file__).resolve().parents[2]
UP_TIMEOUT = 120.0
DOWN_TIMEOUT = 120.0


def executable(name: str) -> str:
    """The path of console script ``name``, preferring the running virtualenv's ``bin``."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (make venv)")
    return found


def tool_env() -> dict[str, str]:
    """``os.environ`` with the virtualenv's ``bin`` first on PATH (envoy, buf, grpcurl)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_base(width: int = 40) -> int:
    """A base ``b`` such that ``b .. b + width`` are all free.

    Worker ``i`` of a service listens on ``b + offset + 10 * i``: 40 fits 4 workers of up
    to 9 services.
    """
    for _ in range(200):
        base = free_port()
        if base + width < 65000 and all(_port_is_free(base + i) for i in range(width + 1)):
            return base
    raise RuntimeError(f"no free range of {width + 1} ports")


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of ``path`` ('' when missing)."""
    try:
        text = path.read_bytes()[-64 * 1024 :].decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class Mesh:
    """A mesh started by ``agora up`` in ``data_dir``; ``state`` is its ``mesh.json``."""

    data_dir: Path
    state: dict[str, Any]

    @property
    def edge_port(self) -> int:
        return int(self.state["ports"]["edge"])

    @property
    def edge_url(self) -> str:
        return f"https://localhost:{self.edge_port}"

    @property
    def edge_target(self) -> str:
        return f"localhost:{self.edge_port}"

    @property
    def cert_dir(self) -> Path:
        return Path(self.state.get("cert_dir") or self.data_dir / "certs")

    @property
    def root_ca(self) -> Path:
        return self.cert_dir / "root_ca.crt"

    @property
    def logs(self) -> Path:
        return Path(self.state.get("logs") or self.data_dir / "logs")

    @property
    def database_url(self) -> str:
        """The PostgreSQL server's URL with its password (``mesh.json`` masks it: the
        embedded server's is in ``secrets/postgres.password``; an external server's is
        taken from the user service's environment)."""
        from pkg.runtime._secrets import with_password

        masked = str(self.state["database_url"])
        if self.state.get("database_embedded"):
            password = (self.data_dir / "secrets" / "postgres.password").read_text().strip()
            user = masked.split("://", 1)[1].split(":", 1)[0]
            return with_password(masked, user, password)
        service = self.service_env("user")["AGORA_USER_DATABASE_URL"]
        return service.replace("+psycopg", "", 1).rsplit("/", 1)[0] + "/postgres"

    @property
    def admin_socket(self) -> Path:
        """Envoy's admin: a unix socket of mode 0600 (there is no admin TCP port)."""
        return Path(self.state["admin_socket"])

    def service_port(self, name: str) -> int:
        """The port of service ``name``'s first worker."""
        return int(self.state["ports"]["services"][name])

    def worker_ports(self, name: str) -> list[int]:
        """The ports of every worker of service ``name``, in worker order."""
        return [int(port) for port in self.state["ports"]["workers"][name]]

    def worker_programs(self, name: str) -> list[str]:
        """The supervisord programs of service ``name``'s workers (``user-1``, ...)."""
        return list(self.state["workers"][name])

    def log_tails(self, lines: int = 40) -> str:
        return log_tails(self.data_dir, lines)

    def service_env(self, name: str) -> dict[str, str]:
        """The environment ``agora up`` gives service ``name`` (from ``supervisord.conf``)."""
        return program_environment(self.data_dir, name)


def log_tails(data_dir: Path, lines: int = 40) -> str:
    """The tail of every log of the mesh in ``data_dir``, one section per file."""
    logs = data_dir / "logs"
    files = sorted(logs.glob("*.log")) + sorted(logs.glob("*.out")) if logs.is_dir() else []
    if not files:
        return f"(no logs under {logs})"
    return "\n".join(
        f"----- {path.name} (last {lines} lines) -----\n{tail(path, lines)}" for path in files
    )


def agora(
    *args: str, timeout: float, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``agora <args>`` (``env`` added to ``tool_env()``); raises
    ``subprocess.TimeoutExpired`` after ``timeout`` s."""
    return subprocess.run(
        [executable("agora"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**tool_env(), **(env or {})},
        check=False,
    )


def _describe(result: subprocess.CompletedProcess[str] | None) -> str:
    if result is None:
        return ""
    return (
        f"exit status {result.returncode}\nstdout:\n{result.stdout[-4000:]}\n"
        f"stderr:\n{result.stderr[-4000:]}"
    )


class MeshStartError(RuntimeError):
    """``agora up`` failed or the edge did not answer in time."""


E2E_WORKERS = 2
"""Worker processes per service in the e2e mesh, whatever the machine's core count."""
E2E_ENV = {"AGORA_AUTH_LOGIN_FAILURES_PER_ADDRESS": "1000"}
"""Every e2e client is 127.0.0.1, so the tests' deliberate failed logins and refused replays
would add up to the per-address throttle (20 per 15 min) and throttle unrelated tests; the
per-account throttle, which the tests exercise, keeps its default."""


def start_mesh(data_dir: Path, *, timeout: float = UP_TIMEOUT, workers: int = E2E_WORKERS) -> Mesh:
    """``agora up --detach --workers <workers>`` in ``data_dir`` on free ports; wait until
    the edge serves JWKS.

    Raises ``MeshStartError`` with the command's output and the logs' tails.
    """
    import httpx

    edge_port, port_base = free_port(), free_port_base()
    deadline = time.monotonic() + timeout
    result = None
    try:
        result = agora(
            "up",
            "--detach",
            "--data-dir",
            str(data_dir),
            "--edge-port",
            str(edge_port),
            "--port-base",
            str(port_base),
            "--workers",
            str(workers),
            timeout=timeout,
            env=E2E_ENV,
        )
    except subprocess.TimeoutExpired as exc:
        raise MeshStartError(
            f"`agora up` did not return within {timeout:g} s\n"
            f"{exc.stdout!r}\n{exc.stderr!r}\n{log_tails(data_dir)}"
        ) from None
    if result.returncode != 0:
        raise MeshStartError(f"`agora up` failed: {_describe(result)}\n{log_tails(data_dir)}")
    try:
        state = json.loads((data_dir / "mesh.json").read_text())
    except (OSError, ValueError) as exc:
        raise MeshStartError(
            f"no readable mesh.json after `agora up`: {exc}\n"
            f"{_describe(result)}\n{log_tails(data_dir)}"
        ) from None
    mesh = Mesh(data_dir, state)
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with httpx.Client(verify=ssl_context(mesh.root_ca), timeout=5) as client:
                response = client.get(f"{mesh.edge_url}/.well-known/jwks.json")
            if response.status_code == 200:
                return mesh
            last = f"{response.status_code} {response.text[:300]}"
        except (httpx.HTTPError, OSError) as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise MeshStartError(
        f"edge {mesh.edge_url} did not serve the JWKS within {timeout:g} s "
        f"(last: {last})\n{_describe(result)}\n{log_tails(data_dir)}"
    )


def stop_mesh(data_dir: Path, *, timeout: float = DOWN_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``agora down --data-dir <data_dir>``."""
    return agora("down", "--data-dir", str(data_dir), timeout=timeout)


def stop_mesh_completely(data_dir: Path, *, linger: float = 20.0) -> None:
    """``agora down``, then assert it exited 0 and that no process of ``data_dir`` is left
    after ``linger`` seconds (``processes_of``)."""
    result = stop_mesh(data_dir)
    deadline = time.monotonic() + linger
    leftovers = processes_of(data_dir)
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.25)
        leftovers = processes_of(data_dir)
    assert result.returncode == 0, (
        f"`agora down` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    assert not leftovers, "processes of the mesh survived `agora down`:\n" + "\n".join(leftovers)


def processes_of(data_dir: Path) -> list[str]:
    """Live processes whose command line or environment names ``data_dir`` (``pid cmd``)."""
    needle = str(data_dir).encode()
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            try:
                environ = (entry / "environ").read_bytes()
            except PermissionError:
                environ = b""
            status = (entry / "status").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if "State:\tZ" in status:
            continue
        if needle in cmdline or needle in environ:
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name} {command}")
    return found


def ssl_context(root_ca: Path) -> Any:
    """A client ``ssl.SSLContext`` trusting only ``root_ca``."""
    import ssl

    return ssl.create_default_context(cafile=str(root_ca))
