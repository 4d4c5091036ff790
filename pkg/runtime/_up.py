"""Bringing a mesh up, asking how it is, taking it down (what ``agora up/status/down`` do).

``start_mesh`` prepares the data directory (made private, ``_private``; generated
passwords, certificates, PGDATA, Envoy config, ``supervisord.conf``, ``mesh.json``),
launches supervisord and starts the programs wave by
wave (priority order), each wave gated on readiness: PostgreSQL/Redis answer, then the
services' databases exist, migrations exit 0, services report gRPC health SERVING, Envoy's
``/ready`` answers 200. Any failure stops everything and raises ``StartFailure``.
"""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from pkg.contracts import descriptor_set
from pkg.runtime._health import envoy_ready, grpc_health
from pkg.runtime._logs import program_tail
from pkg.runtime._mesh import (
    FAILED_STATES,
    JWT_AUDIENCE,
    JWT_ISSUER,
    WORKLOADS,
    MeshError,
    MeshLayout,
    MeshPlan,
    Program,
    ProgramFailure,
    Report,
    read_mesh_state,
    service_spec,
)
from pkg.runtime._orphans import orphaned_programs
from pkg.runtime._ports import port_is_free
from pkg.runtime._postgres import EmbeddedPostgres, ensure_database
from pkg.runtime._private import secure_data_dir
from pkg.runtime._redis import EmbeddedRedis
from pkg.runtime._secrets import PRIVATE_FILE
from pkg.runtime._supervisor import Supervisor, render_supervisord_conf

_FAILED = FAILED_STATES


class StartFailure(ProgramFailure):
    """A program failed to start (``ProgramFailure``: program, reason, log tail)."""


def issue_certificates(layout: MeshLayout, *, force: bool = False) -> list[str]:
    """Create or renew the mesh's certificates (``pkg.pki`` development CA).

    CA state in ``<data>/pki``, leaves for auth, user, edge and cli in ``<data>/certs``;
    leaves are renewed when a third of their life is left, or all of them now with
    ``force``. Servers, channels and Envoy reload renewed files without a restart.
    Returns the names (re)issued. Raises ``MeshError`` when ``pkg.pki`` is unavailable.
    """
    try:
        from pkg.pki import DevelopmentCA, ensure_mesh_certificates
    except ImportError as exc:
        raise MeshError(f"certificates need pkg.pki, which failed to import: {exc}") from exc
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    return ensure_mesh_certificates(DevelopmentCA(layout.pki), layout.certs, WORKLOADS, force=force)


def missing_services(names: tuple[str, ...]) -> list[str]:
    """The ``services.<name>`` modules among ``names`` that cannot be imported."""
    return [name for name in names if importlib.util.find_spec(service_spec(name).module) is None]


def _check_ports(plan: MeshPlan) -> None:
    ports = plan.ports
    wanted: list[tuple[str, int]] = []
    if plan.database_url is None:
        wanted.append(("PostgreSQL (--postgres-port)", ports.postgres))
    if plan.redis_url is None:
        wanted.append(("Redis (--redis-port)", ports.redis))
    wanted += [
        (f"{name} worker {index + 1} (--port-base)", port)
        for name in plan.services
        for index, port in enumerate(ports.worker_ports(name))
    ]
    if plan.edge:
        wanted += [("edge (--edge-port)", ports.edge), ("JWKS listener (--jwks-port)", ports.jwks)]
    busy = [f"{what} port {port}" for what, port in wanted if not port_is_free("127.0.0.1", port)]
    if busy:
        raise MeshError("ports already in use: " + "; ".join(busy))


def _check_orphans(layout: MeshLayout) -> None:
    orphans = orphaned_programs(layout)
    if orphans:
        raise MeshError(
            f"supervisord of the mesh in {layout.data_dir} is gone but its programs "
            f"still run ({', '.join(sorted(orphans.values()))}): `agora down` "
            "stops them"
        )


def _check_external(plan: MeshPlan) -> None:
    if plan.database_url is not None:
        import psycopg

        try:
            with psycopg.connect(
                plan.database_url.replace("postgresql+psycopg://", "postgresql://", 1),
                connect_timeout=5,
            ):
                pass
        except psycopg.Error as exc:
            raise MeshError(f"DATABASE_URL names no reachable server: {exc}") from exc
    if plan.redis_url is not None:
        import redis

        client = redis.Redis.from_url(plan.redis_url, socket_timeout=5)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise MeshError(f"REDIS_URL names no reachable server: {exc}") from exc
        finally:
            client.close()


def envoy_config_options(plan: MeshPlan) -> dict[str, Any]:
    """The keyword arguments of ``pkg.edge.write_envoy_config`` for ``plan``'s edge.

    Every worker of each service is an endpoint of its cluster; the admin is the unix
    socket ``layout.admin_socket`` (mode 0600); ``cors_origins`` are the origins the edge's
    CORS policy admits (none by default).
    """
    return dict(
        descriptor_set=descriptor_set(),
        cert_dir=plan.layout.certs,
        endpoints=plan.edge_endpoints(),
        listen=("127.0.0.1", plan.ports.edge),
        admin=plan.layout.admin_socket,
        jwks_listen=("127.0.0.1", plan.ports.jwks),
        jwt_issuer=JWT_ISSUER,
        jwt_audience=JWT_AUDIENCE,
        cors_origins=list(plan.cors_origins),
    )


def prepare(plan: MeshPlan) -> list[Program]:
    """Write everything the mesh needs under its data directory; return its programs.

    The data directory made private (``secure_data_dir``), certificates (when services
    or the edge run), the embedded servers' passwords (``secrets/``, generated once),
    PGDATA (``initdb`` with SCRAM once; an older trust-auth cluster gets the password and
    a SCRAM ``pg_hba.conf``), Redis's ``requirepass`` config and its append-only file
    from an older snapshot-only ``dump.rdb`` (once), the Envoy config (``pkg.edge``),
    ``supervisord.conf`` and ``mesh.json`` (both 0600). Raises ``MeshError`` when a
    needed part (``pkg.pki``, ``pkg.edge``, a service module) is missing, the data
    directory cannot be made private, or PostgreSQL's cluster cannot be set up.
    """
    layout = plan.layout
    missing = missing_services(plan.services)
    if missing:
        raise MeshError("service modules not found: " + ", ".join(f"services.{n}" for n in missing))
    embedded_pg = plan.database_url is None
    try:
        account = plan.embedded_postgres.account if embedded_pg else None
    except RuntimeError as exc:
        raise MeshError(str(exc)) from exc
    secure_data_dir(layout, account)
    if plan.services or plan.edge:
        issue_certificates(layout)
    for spec in map(service_spec, plan.services):
        for key, value in spec.env:
            path = Path(value.replace("{data}", str(layout.data_dir)))
            if key.endswith("_DIR"):
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
            elif key.endswith("_FILE"):
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if embedded_pg:
        try:
            plan.embedded_postgres.initialize()
        except RuntimeError as exc:
            raise MeshError(f"PostgreSQL in {layout.postgres}: {exc}") from exc
    if plan.redis_url is None:
        plan.embedded_redis.write_config()
        plan.embedded_redis.convert_snapshot()
    if plan.edge:
        try:
            from pkg.edge import write_envoy_config
        except ImportError as exc:
            raise MeshError(f"the edge needs pkg.edge, which failed to import: {exc}") from exc
        write_envoy_config(layout.envoy_config, **envoy_config_options(plan))
    from pkg.pki import write_atomic

    programs = plan.programs()
    write_atomic(
        layout.supervisord_conf,
        render_supervisord_conf(layout, programs).encode(),
        mode=PRIVATE_FILE,
    )
    write_atomic(
        layout.mesh_file, (json.dumps(plan.state(), indent=2) + "\n").encode(), mode=PRIVATE_FILE
    )
    return programs


def probe(program: dict[str, Any], state: dict[str, Any], cert_dir: Path) -> bool:
    """Return True when ``program`` (a ``mesh.json`` entry) is ready.

    ``state`` is that ``mesh.json``; PostgreSQL answers ``SELECT 1`` and Redis ``PING``
    (with the passwords in ``secrets/``), a service gRPC health SERVING (over mTLS as
    ``cli``), Envoy ``/ready`` 200 on its admin socket.
    """
    kind, port = program["probe"], int(program.get("port") or 0)
    if kind == "running":
        return True
    layout = MeshLayout.at(Path(state["data_dir"]))
    if kind == "postgres":
        return EmbeddedPostgres(
            layout.postgres, port, password_file=layout.postgres_password
        ).is_ready()
    if kind == "redis":
        return EmbeddedRedis(layout.redis, port, password_file=layout.redis_password).is_ready()
    if kind == "grpc":
        return grpc_health(f"127.0.0.1:{port}", cert_dir, timeout=1.0) == "SERVING"
    if kind == "envoy" and state.get("admin_socket"):
        return envoy_ready(Path(state["admin_socket"]), timeout=1.0)
    return False


def _failure(layout: MeshLayout, name: str, reason: str) -> StartFailure:
    path = layout.log(name)
    return StartFailure(name, reason, path, program_tail(path, layout.out(name)))


def _wait_wave(
    supervisor: Supervisor, plan: MeshPlan, wave: list[Program], timeout: float, report: Report
) -> None:
    layout = plan.layout
    state = plan.state()
    entries = {p["name"]: p for p in state["programs"]}
    pids: dict[str, int] = {}
    pending = {p.name for p in wave}
    started = time.monotonic()
    deadline = started + timeout
    while pending:
        for name in sorted(pending):
            info = supervisor.info(name)
            statename, pid = info["statename"], int(info.get("pid") or 0)
            if entries[name]["probe"] == "exit":
                if statename == "EXITED" and info.get("exitstatus") == 0:
                    pending.discard(name)
                    report(f"  {name}: done ({time.monotonic() - started:.1f} s)")
                elif statename in {"EXITED", "FATAL", "BACKOFF"}:
                    raise _failure(layout, name, f"exited with status {info.get('exitstatus')}")
                continue
            if statename in _FAILED:
                raise _failure(
                    layout,
                    name,
                    f"process {statename.lower()} "
                    f"({info.get('spawnerr') or info.get('description')})",
                )
            if pid and pids.setdefault(name, pid) != pid:
                raise _failure(layout, name, "process restarted while starting")
            if statename == "RUNNING" and probe(entries[name], state, layout.certs):
                pending.discard(name)
                port = entries[name]["port"]
                place = f"on 127.0.0.1:{port}, " if port else ""
                if entries[name]["probe"] == "envoy":
                    place = f"admin {state['admin_socket']}, "
                report(f"  {name}: ready ({place}{time.monotonic() - started:.1f} s)")
        if pending and time.monotonic() > deadline:
            name = sorted(pending)[0]
            raise _failure(layout, name, f"not ready after {timeout:g} s")
        if pending:
            time.sleep(0.2)


def start_mesh(plan: MeshPlan, *, timeout: float = 60.0, report: Report = print) -> Supervisor:
    """Prepare and start the mesh of ``plan``; return its running ``Supervisor``.

    ``timeout`` (seconds) bounds each wave's readiness. Raises ``MeshError`` before
    anything starts (mesh already running, port in use, external server unreachable,
    missing part) and ``StartFailure`` after stopping everything when a program fails.
    """
    supervisor = Supervisor(plan.layout)
    if supervisor.reachable() or supervisor.pid() is not None:
        raise MeshError(f"a mesh already runs from {plan.layout.data_dir}: `agora down` first")
    _check_orphans(plan.layout)
    _check_external(plan)
    _check_ports(plan)
    programs = prepare(plan)
    report(f"supervisord: {plan.layout.supervisord_conf}")
    supervisor.launch()
    databases_ready = False
    try:
        for priority, group in groupby(programs, key=lambda p: p.priority):
            wave = list(group)
            if priority >= 20 and not databases_ready:
                for spec in map(service_spec, plan.services):
                    if spec.database:
                        ensure_database(plan.server_database_url, f"agora_{spec.name}")
                databases_ready = True
            for program in wave:
                supervisor.start(program.name)
            _wait_wave(supervisor, plan, wave, timeout, report)
    except BaseException:
        supervisor.shutdown()
        raise
    return supervisor


@dataclass(frozen=True)
class ProgramStatus:
    """One program's state: supervisor ``state`` name, ``pid`` (0 when none), ``uptime``
    in seconds, ``ready`` (probe passed; None for one-shots), ``port``."""

    name: str
    state: str
    pid: int
    uptime: float
    ready: bool | None
    port: int | None


def mesh_status(data_dir: Path) -> list[ProgramStatus] | None:
    """Each program's status, or None when no mesh runs from ``data_dir``.

    Raises ``MeshError`` when supervisord is gone but programs it started still run.
    """
    layout = MeshLayout.at(data_dir)
    supervisor = Supervisor(layout)
    if not supervisor.reachable():
        _check_orphans(layout)
        return None
    if not layout.mesh_file.exists():
        return None
    state = read_mesh_state(layout.data_dir)
    entries = {p["name"]: p for p in state["programs"]}
    order = {name: index for index, name in enumerate(entries)}
    result = []
    infos = sorted(supervisor.all_info(), key=lambda i: order.get(i["name"], len(order)))
    for info in infos:
        entry = entries.get(info["name"], {"probe": "exit", "port": None})
        running = info["statename"] in {"STARTING", "RUNNING"}
        ready = (
            None if entry["probe"] == "exit" else (running and probe(entry, state, layout.certs))
        )
        uptime = float(info["now"] - info["start"]) if info["statename"] == "RUNNING" else 0.0
        result.append(
            ProgramStatus(
                info["name"],
                info["statename"],
                int(info["pid"] or 0),
                uptime,
                ready,
                entry.get("port"),
            )
        )
    return result


def stop_mesh(data_dir: Path, timeout: float = 120.0) -> bool:
    """Stop the mesh running from ``data_dir`` and wait (``timeout`` seconds).

    Also stops programs left running by a killed supervisord. Returns False when none was
    running.
    """
    return Supervisor(MeshLayout.at(data_dir)).shutdown(timeout)
