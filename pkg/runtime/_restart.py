"""Rolling restarts (what ``agora restart SERVICE`` does).

One worker at a time: supervisord stops it (SIGTERM; the service drains itself: NOT_SERVING
for longer than the edge's health-check period, then stops with grace), starts it again,
and the next worker waits until this one answers gRPC health SERVING and, when the mesh
runs an edge, until Envoy's admin ``/clusters`` lists that host as ``healthy`` again
(``<cluster>::<host>:<port>::health_flags::healthy``; any other value, such as
``/failed_active_hc``, means Envoy does not route to it yet;
envoyproxy.io/docs/envoy/latest/operations/admin#get--clusters). So the service always
has a worker serving, and the edge always knows one.
"""

from __future__ import annotations

import http.client
import time
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pkg.runtime._health import admin_get, grpc_health
from pkg.runtime._logs import program_tail, tail
from pkg.runtime._mesh import (
    FAILED_STATES,
    MeshError,
    MeshLayout,
    ProgramFailure,
    Report,
    read_mesh_state,
)
from pkg.runtime._supervisor import Supervisor

_FAILED = FAILED_STATES


class RestartFailure(ProgramFailure):
    """A worker did not come back (``ProgramFailure``: program, reason, log tail)."""


@dataclass(frozen=True)
class RestartedWorker:
    """One restarted worker: its program, port, and pid before and after."""

    program: str
    port: int
    old_pid: int
    new_pid: int


def edge_host_health(
    admin_socket: Path, port: int, *, host: str = "127.0.0.1", timeout: float = 2.0
) -> list[str]:
    """The ``health_flags`` Envoy reports for upstream ``host:port`` in every cluster.

    Reads the text form of the admin ``GET /clusters`` over the unix socket
    ``admin_socket`` (``MeshLayout.admin_socket``, ``mesh.json``'s ``admin_socket``);
    ``healthy`` means routable. Returns ``[]`` when no cluster has that host or the
    admin interface does not answer 200 within ``timeout`` seconds.
    """
    try:
        status, text = admin_get(admin_socket, "/clusters", timeout)
    except (OSError, http.client.HTTPException):
        return []
    if status != 200:
        return []
    needle = f"::{host}:{port}::health_flags::"
    return [line.split(needle, 1)[1].strip() for line in text.splitlines() if needle in line]


def _wait(ready: Callable[[], bool], deadline: float) -> bool:
    while True:
        if ready():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


@dataclass(frozen=True)
class _Target:
    """What restarting one worker needs: its program and port, the mesh's certificates
    and Envoy's admin socket (None without an edge)."""

    layout: MeshLayout
    supervisor: Supervisor
    program: str
    port: int
    cert_dir: Path
    admin: Path | None

    def failure(self, reason: str) -> RestartFailure:
        log = self.layout.log(self.program)
        return RestartFailure(
            self.program, reason, log, program_tail(log, self.layout.out(self.program))
        )

    def serving(self) -> bool:
        info = self.supervisor.info(self.program)
        if info["statename"] in _FAILED:
            raise self.failure(
                f"process {info['statename'].lower()} "
                f"({info.get('spawnerr') or info.get('description')})"
            )
        return bool(
            info["statename"] == "RUNNING"
            and grpc_health(f"127.0.0.1:{self.port}", self.cert_dir, timeout=1.0) == "SERVING"
        )

    def serving_quietly(self) -> bool:
        """True when the worker answers SERVING; any other state is just False."""
        try:
            return self.serving()
        except RestartFailure:
            return False

    def routed(self) -> bool:
        if self.admin is None:
            return True
        flags = edge_host_health(self.admin, self.port)
        return bool(flags) and all(flag == "healthy" for flag in flags)


def _restart_worker(
    target: _Target, *, timeout: float, settle: float, report: Report
) -> RestartedWorker:
    supervisor, program, port = target.supervisor, target.program, target.port
    started = time.monotonic()
    old_pid = int(supervisor.info(program).get("pid") or 0)
    report(f"  {program}: stopping (pid {old_pid or '-'}, draining) ...")
    try:
        supervisor.stop(program)
        supervisor.start(program)
    except xmlrpc.client.Fault as fault:
        raise target.failure(f"supervisord refused: {fault.faultString}") from None
    deadline = time.monotonic() + timeout
    if not _wait(target.serving, deadline):
        raise target.failure(f"not SERVING {timeout:g} s after its start")
    serving_at = time.monotonic()
    new_pid = int(supervisor.info(program).get("pid") or 0)
    if not _wait(target.routed, deadline):
        flags = ", ".join(edge_host_health(target.admin, port)) if target.admin else ""
        flags = flags or "not listed"
        raise target.failure(
            f"SERVING, but the edge does not route to 127.0.0.1:{port} "
            f"after {timeout:g} s (Envoy health_flags: {flags})"
        )
    time.sleep(max(0.0, serving_at + settle - time.monotonic()))
    report(
        f"  {program}: back (pid {new_pid}, 127.0.0.1:{port}, {time.monotonic() - started:.1f} s)"
    )
    return RestartedWorker(program, port, old_pid, new_pid)


def _admin_socket(state: dict[str, Any]) -> Path:
    if not state.get("admin_socket"):
        raise MeshError(
            "mesh.json names no Envoy admin socket: this mesh was started by an "
            "older agora; `agora down`, then `agora up` again"
        )
    return Path(state["admin_socket"])


def restart_service(
    data_dir: Path,
    service: str,
    *,
    timeout: float = 60.0,
    settle: float = 2.0,
    report: Report = print,
) -> list[RestartedWorker]:
    """Restart every worker of ``service`` in the mesh of ``data_dir``, one at a time.

    For each worker: stop it (supervisord: SIGTERM, SIGKILL after ``stopwaitsecs``), start
    it, wait up to ``timeout`` seconds for gRPC health SERVING, then for Envoy to list it
    ``healthy`` (when the mesh has an edge; also within ``timeout``), and at least
    ``settle`` seconds after SERVING, so clients' channels reconnect before the next
    worker stops. A worker about to stop while no other worker of the service is SERVING
    is reported (the service has a gap). Returns the restarted workers. Raises
    ``MeshError`` when no mesh runs or ``service`` is not in it, ``RestartFailure`` when a
    worker does not come back (the remaining workers are left running untouched).
    """
    layout = MeshLayout.at(data_dir)
    supervisor = Supervisor(layout)
    if not supervisor.reachable() or not layout.mesh_file.exists():
        raise MeshError(f"no mesh is running from {layout.data_dir}")
    state = read_mesh_state(layout.data_dir)
    workers = state.get("workers", {}).get(service)
    if not workers:
        known = ", ".join(sorted(state.get("workers", {}))) or "none"
        raise MeshError(f"{service!r} is not a service of this mesh (running: {known})")
    ports = {p["name"]: int(p["port"]) for p in state["programs"] if p["name"] in workers}
    targets = [
        _Target(
            layout,
            supervisor,
            program,
            ports[program],
            Path(state["cert_dir"]),
            _admin_socket(state) if state.get("edge") else None,
        )
        for program in workers
    ]
    restarted = []
    for target in targets:
        others = [other for other in targets if other is not target]
        if not any(other.serving_quietly() for other in others):
            report(
                f"  warning: no other worker of {service} is SERVING: {service} is "
                f"unavailable while {target.program} restarts"
            )
        restarted.append(_restart_worker(target, timeout=timeout, settle=settle, report=report))
    return restarted


def restart_edge(data_dir: Path, *, timeout: float = 60.0, report: Report = print) -> int:
    """Restart Envoy (a plain restart: open connections are closed) and wait for ``/ready``.

    Returns the new pid. Raises ``MeshError`` when no mesh with an edge runs from
    ``data_dir``, ``RestartFailure`` when Envoy is not ready within ``timeout`` seconds.
    """
    from pkg.runtime._health import envoy_ready

    layout = MeshLayout.at(data_dir)
    supervisor = Supervisor(layout)
    if not supervisor.reachable() or not layout.mesh_file.exists():
        raise MeshError(f"no mesh is running from {layout.data_dir}")
    state = read_mesh_state(layout.data_dir)
    if not state.get("edge"):
        raise MeshError("this mesh runs without an edge (--no-edge)")
    admin = _admin_socket(state)
    report("  edge: restarting Envoy (open connections are closed) ...")
    supervisor.stop("edge")
    supervisor.start("edge")
    started = time.monotonic()

    def ready() -> bool:
        info = supervisor.info("edge")
        if info["statename"] in _FAILED:
            raise RestartFailure(
                "edge",
                f"process {info['statename'].lower()}",
                layout.log("edge"),
                tail(layout.log("edge")),
            )
        return info["statename"] == "RUNNING" and envoy_ready(admin, timeout=1.0)

    if not _wait(ready, started + timeout):
        raise RestartFailure(
            "edge",
            f"not ready {timeout:g} s after its start",
            layout.log("edge"),
            tail(layout.log("edge")),
        )
    pid = int(supervisor.info("edge").get("pid") or 0)
    report(f"  edge: ready (pid {pid}, {time.monotonic() - started:.1f} s)")
    return pid
