"""The mesh under test: started with ``agora up --detach`` on free ports (or one already
up), described by ``pkg.runtime.read_mesh_state``, stopped with ``pkg.runtime.stop_mesh``
(what ``agora down`` runs); and a bearer token from a fresh user through the edge."""

from __future__ import annotations

import dataclasses
import json
import secrets
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from pkg.runtime import MeshError, free_port, free_port_base, read_mesh_state, stop_mesh

from .processes import run
from .results import ROOT, WORKERS, log


@dataclasses.dataclass
class Mesh:
    """A running mesh: its data directory, ports and certificate directory.

    ``ports`` names every server process's port (``user-1 service``, ``edge Envoy``,
    ``postgres``, ``redis`` ...) for CPU metering; ``admin_socket`` is Envoy's admin (a
    unix socket) and ``user_workers`` the ports of the user service's workers, in worker order.
    """

    data_dir: Path
    edge_port: int
    admin_socket: Path
    user_workers: list[int]
    cert_dir: Path
    owned: bool
    ports: dict[str, int]


def agora_cmd() -> list[str]:
    """How to run the ``agora`` CLI of this venv."""
    script = Path(sys.executable).parent / "agora"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pkg.cli.main"]


def mesh_from_state(data_dir: Path, owned: bool) -> Mesh:
    """The ``Mesh`` described by ``<data_dir>/mesh.json``; RuntimeError when unreadable."""
    try:
        state = read_mesh_state(data_dir)
        ports = state["ports"]
        return Mesh(
            data_dir=data_dir,
            edge_port=int(ports["edge"]),
            admin_socket=Path(state["admin_socket"]),
            user_workers=[int(p) for p in ports["workers"]["user"]],
            cert_dir=Path(state.get("cert_dir") or data_dir / "certs"),
            owned=owned,
            ports={
                **{
                    f"{name}-{index} service": int(port)
                    for name, worker_ports in ports["workers"].items()
                    for index, port in enumerate(worker_ports, 1)
                },
                "edge Envoy": int(ports["edge"]),
                "postgres": int(ports["postgres"]),
                "redis": int(ports["redis"]),
            },
        )
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise RuntimeError(f"cannot read {data_dir}/mesh.json: {exc}") from exc


def mesh_up(work: Path, existing: Path | None) -> Mesh:
    """Start a mesh with ``agora up --detach`` (or read ``existing``); RuntimeError if not."""
    if existing is not None:
        return mesh_from_state(existing, owned=False)
    data_dir = work / "mesh"
    cmd = [
        *agora_cmd(),
        "up",
        "--detach",
        "--data-dir",
        str(data_dir),
        "--edge-port",
        str(free_port()),
        "--port-base",
        str(free_port_base(WORKERS)),
        "--workers",
        str(WORKERS),
    ]
    log(f"mesh: {' '.join(cmd)}")
    try:
        proc = run(cmd, timeout=420, cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise RuntimeError("`agora up` did not finish within 420 s") from None
    (work / "agora-up.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
        raise RuntimeError(f"`agora up` exited {proc.returncode}: {' | '.join(tail)}")
    return mesh_from_state(data_dir, owned=True)


def mesh_down(mesh: Mesh) -> None:
    """Stop a mesh this run started (``pkg.runtime.stop_mesh``); leave any other running."""
    if not mesh.owned:
        return
    log(f"mesh: stopping {mesh.data_dir}")
    try:
        stop_mesh(mesh.data_dir)
    except (OSError, MeshError) as exc:
        log(f"stopping the mesh failed: {exc}; see {mesh.data_dir}/logs")


def edge_json(
    mesh: Mesh, method: str, path: str, body: dict[str, object] | None, token: str | None = None
) -> tuple[int, dict[str, object]]:
    """One HTTPS JSON call to the edge (server checked against the mesh's root CA):
    (HTTP status, parsed JSON body; ``{"raw": ...}`` when the body is not JSON)."""
    context = ssl.create_default_context(cafile=str(mesh.cert_dir / "root_ca.crt"))
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"https://localhost:{mesh.edge_port}{path}",
        method=method,
        headers=headers,
        data=None if body is None else json.dumps(body).encode(),
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 - https URL built here
            request, context=context, timeout=30
        ) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"{}")
        except ValueError:
            return exc.code, {"raw": raw.decode(errors="replace")[:200]}


def get_token(mesh: Mesh) -> str:
    """Register a fresh user and log in through the edge; the access token.

    Raises ``RuntimeError`` when a step (register, login, ``GET /v1/users/me``) fails.
    """
    email = f"bench-{secrets.token_hex(6)}@example.com"
    password = f"Bench-{secrets.token_urlsafe(12)}-9"
    status, reply = edge_json(
        mesh,
        "POST",
        "/v1/auth:register",
        {"email": email, "password": password, "displayName": "Bench"},
    )
    if status != 200:
        raise RuntimeError(f"register answered HTTP {status}: {json.dumps(reply)[:200]}")
    status, reply = edge_json(
        mesh, "POST", "/v1/auth:login", {"email": email, "password": password}
    )
    token = reply.get("accessToken") if status == 200 else None
    if not isinstance(token, str) or not token:
        raise RuntimeError(f"login answered HTTP {status}: {json.dumps(reply)[:200]}")
    status, reply = edge_json(mesh, "GET", "/v1/users/me", None, token)
    if status != 200:
        raise RuntimeError(f"GET /v1/users/me answered HTTP {status}: {json.dumps(reply)[:200]}")
    return token
