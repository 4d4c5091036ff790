"""The ``agora`` command: ``up``, ``status``, ``down``, ``restart``, ``certs``, ``events``,
``new-service``.

``agora up`` starts the whole mesh on this machine (see docs/architecture.md) and, in the
foreground, stops it on Ctrl-C or SIGTERM; ``--detach`` leaves it running for
``agora status`` and ``agora down``. State lives in one data directory (``--data-dir``,
default ``$AGORA_HOME`` or ``./.agora``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from pkg.cli._events import NOT_RUNNING, add_events_parser, add_redis_url, print_event_streams
from pkg.cli._events import run_events as _events
from pkg.pki import DevelopmentCA, ensure_identity_certificates
from pkg.runtime import (
    SERVICES,
    WORKLOADS,
    MeshError,
    MeshLayout,
    MeshPlan,
    MeshPorts,
    RestartFailure,
    StartFailure,
    issue_certificates,
    mesh_status,
    program_environment,
    read_mesh_state,
    restart_edge,
    restart_service,
    start_mesh,
    stop_mesh,
)
from pkg.runtime._mesh import (
    DEFAULT_EDGE_PORT,
    DEFAULT_PORT_BASE,
    MAX_WORKERS,
    default_workers,
)
from pkg.runtime._secrets import redact_url


def _default_data_dir() -> Path:
    return Path(os.environ.get("AGORA_HOME") or ".agora")


def _services(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    known = {s.name for s in SERVICES}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown service(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return names


def _workers(value: str) -> dict[str, int]:
    """Parse ``--workers``: ``N`` (every service), ``user=3,auth=2``, or both (``2,user=3``).

    Returns service name to count, ``*`` for the bare number.
    """
    known = {s.name for s in SERVICES}
    counts: dict[str, int] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        name, _, number = item.rpartition("=")
        name = name.strip() or "*"
        if name != "*" and name not in known:
            raise argparse.ArgumentTypeError(
                f"unknown service {name!r}; known: {', '.join(sorted(known))}"
            )
        try:
            count = int(number)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r} is not a number of workers (N or SERVICE=N)"
            ) from None
        if not 1 <= count <= MAX_WORKERS:
            raise argparse.ArgumentTypeError(f"{item!r}: a service runs 1 to {MAX_WORKERS} workers")
        counts[name] = count
    if not counts:
        raise argparse.ArgumentTypeError("give N or SERVICE=N[,SERVICE=N...]")
    return counts


_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def _origin(value: str) -> str:
    """Check one CORS origin: ``scheme://host[:port]`` (RFC 6454 §6.2), no path or ``*``."""
    origin = value.strip()
    if not _ORIGIN.fullmatch(origin):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an origin: give scheme://host[:port], such as "
            "https://app.example.com (no path, no trailing slash, no wildcard)"
        )
    return origin


def _env_origins() -> list[str]:
    raw = os.environ.get("AGORA_CORS_ORIGINS", "")
    try:
        return [_origin(item) for item in raw.split(",") if item.strip()]
    except argparse.ArgumentTypeError as error:
        raise MeshError(f"AGORA_CORS_ORIGINS: {error}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``agora`` (up, status, down, restart, certs, create-admin,
    events, new-service)."""
    parser = argparse.ArgumentParser(prog="agora", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_data_dir(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="state directory (default: $AGORA_HOME or ./.agora)",
        )
        return sub

    up = with_data_dir(commands.add_parser("up", help="start the mesh and wait for health"))
    up.add_argument(
        "--detach", action="store_true", help="return once healthy and leave the mesh running"
    )
    up.add_argument(
        "--edge-port",
        type=int,
        default=DEFAULT_EDGE_PORT,
        help="HTTPS/gRPC port of the edge (default %(default)s)",
    )
    up.add_argument(
        "--port-base",
        type=int,
        default=DEFAULT_PORT_BASE,
        help="worker i (0-based) of a service listens on base+offset+10*i "
        "(auth offset 1, user 2, ...; default %(default)s); with a "
        "non-default base the ports below are chosen free unless given",
    )
    up.add_argument(
        "--workers",
        type=_workers,
        default={},
        help="worker processes per service: N for all, or SERVICE=N,... "
        f"(default min(2, cores) = {default_workers()})",
    )
    up.add_argument("--postgres-port", type=int, help="embedded PostgreSQL (default 54329)")
    up.add_argument("--redis-port", type=int, help="embedded Redis (default 63790)")
    up.add_argument("--jwks-port", type=int, help="Envoy's JWKS listener (default 9902)")
    up.add_argument(
        "--services",
        type=_services,
        default=tuple(s.name for s in SERVICES),
        help="comma-separated services to run (default: all; '' for none)",
    )
    up.add_argument("--no-edge", dest="edge", action="store_false", help="do not run Envoy")
    up.add_argument(
        "--cors-origin",
        dest="cors_origins",
        type=_origin,
        action="append",
        metavar="ORIGIN",
        default=None,
        help="an origin (https://app.example.com) whose browser requests the edge "
        "allows; repeatable (default: $AGORA_CORS_ORIGINS, comma-separated; "
        "else none)",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds each start stage may take to become healthy",
    )
    up.add_argument("--log-level", default=os.environ.get("AGORA_LOG_LEVEL", "INFO"))

    add_redis_url(
        with_data_dir(
            commands.add_parser(
                "status", help="show each process's state and health, and the event streams"
            )
        )
    )
    down = with_data_dir(commands.add_parser("down", help="stop a detached mesh"))
    down.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    restart = with_data_dir(
        commands.add_parser(
            "restart", help="rolling restart of a service's workers (or of the edge)"
        )
    )
    restart.add_argument(
        "service", metavar="SERVICE", help="a service of the mesh (auth, user, ...) or 'edge'"
    )
    restart.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds each worker may take to be SERVING and routed again",
    )
    restart.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="least seconds between a worker's SERVING and stopping the next",
    )
    certs = with_data_dir(commands.add_parser("certs", help="issue or renew the mesh certificates"))
    certs.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="keep running, checking every SECONDS (what `up` supervises)",
    )
    certs.add_argument(
        "--force",
        action="store_true",
        help="renew every leaf now (new keys; the old leaves stay valid until "
        "they expire: not a revocation)",
    )
    certs.add_argument(
        "--rotate-intermediate",
        action="store_true",
        help="revoke every leaf: a new intermediate CA, every leaf reissued "
        "under it, and peers trust only the new one",
    )
    certs.add_argument(
        "--per-identity",
        action="store_true",
        help="write each workload into its own CERTS/<name>/ (one volume per "
        "container in Docker Compose)",
    )
    admin = with_data_dir(
        commands.add_parser(
            "create-admin", help="create an admin user in the running mesh's user service"
        )
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--display-name", required=True)
    admin.add_argument("--password", help="asked for on the terminal when left out")
    add_events_parser(commands, with_data_dir)
    new = commands.add_parser(
        "new-service", help="generate a domain service from the template and register it"
    )
    new.add_argument("name", metavar="NAME", help="lower-case name, e.g. catalog")
    new.add_argument(
        "--resource",
        metavar="SINGULAR",
        help="the service's resource, lower-case singular, e.g. product (default: NAME)",
    )
    new.add_argument(
        "--plural",
        metavar="PLURAL",
        help="the resource's collection id (AIP-122), e.g. products (default: English plural)",
    )
    new.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        help="the repository to generate into (default: the current directory)",
    )
    new.add_argument(
        "--gen",
        action="store_true",
        help="run `make gen` afterwards (buf generate, descriptor set, routes)",
    )
    return parser


def _new_service(args: argparse.Namespace) -> int:
    from pkg.scaffold import ScaffoldError, new_service

    root = args.root.absolute()
    try:
        generated = new_service(root, args.name, resource=args.resource, plural=args.plural)
    except ScaffoldError as error:
        print(f"agora new-service: {error}", file=sys.stderr)
        return 2
    resource = generated.resource
    print(
        f"generated service {generated.name!r} (resource {resource.singular!r}, "
        f"collection {resource.plural!r}; port offset {generated.port_offset}): "
        f"{len(generated.written)} files; registered in {', '.join(generated.changed)}"
    )
    if args.gen:
        return subprocess.run(["make", "gen"], cwd=root, check=False).returncode
    print("next: `make gen` (stubs, descriptor set, route table), then `make test`")
    return 0


def _plan(args: argparse.Namespace, layout: MeshLayout) -> MeshPlan:
    ports = MeshPorts.derive(
        edge=args.edge_port,
        port_base=args.port_base,
        jwks=args.jwks_port,
        postgres=args.postgres_port,
        redis=args.redis_port,
        workers={
            s.name: args.workers.get(s.name, args.workers.get("*", default_workers()))
            for s in SERVICES
        },
    )
    return MeshPlan(
        layout=layout,
        ports=ports,
        services=args.services,
        edge=args.edge,
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        log_level=args.log_level,
        envoy=str(Path(sys.executable).with_name("envoy")),
        cors_origins=tuple(
            dict.fromkeys(args.cors_origins if args.cors_origins is not None else _env_origins())
        ),
    )


def _summary(plan: MeshPlan) -> str:
    layout = plan.layout
    ca = layout.certs / "root_ca.crt"
    lines = ["", "Agora is up."]
    if plan.edge:
        lines.append(f"  edge:          {plan.edge_url}")
    for name in plan.services:
        ports = ", ".join(f"127.0.0.1:{port}" for port in plan.ports.worker_ports(name))
        lines.append(f"  {name + ':':<14} {ports} (gRPC, mTLS)")
    pg_secret = f" (password: {layout.postgres_password})" if plan.database_url is None else ""
    redis_secret = f" (password: {layout.redis_password})" if plan.redis_url is None else ""
    lines += [
        f"  PostgreSQL:    {redact_url(plan.server_database_url)}{pg_secret}",
        f"  Redis:         {redact_url(plan.server_redis_url)}{redis_secret}",
        f"  logs:          {layout.logs}/<process>.log",
        f"  state:         {layout.mesh_file}",
        f"  certificates:  {layout.certs} (CA: {ca})",
    ]
    if plan.edge:
        lines.append(f"  Envoy admin:   {layout.admin_socket} (unix socket, this user only)")
    if plan.edge:
        edge = plan.edge_url
        body = '{"email": "ada@example.com", "password": "correct horse battery", '
        lines += [
            "",
            "Try:",
            f"  curl --cacert {ca} -H 'content-type: application/json' \\",
            f'       -d \'{body}"display_name": "Ada"}}\' {edge}/v1/auth:register',
            f"  curl --cacert {ca} -H 'content-type: application/json' \\",
            '       -d \'{"email": "ada@example.com", "password": "correct horse battery"}\' '
            f"{edge}/v1/auth:login",
            f"  grpcurl -cacert {ca} localhost:{plan.ports.edge} list",
        ]
    if plan.services:
        first = plan.services[0]
        lines.append(
            f"  grpcurl -cacert {ca} -cert {layout.certs / 'cli.crt'} "
            f"-key {layout.certs / 'cli.key'} localhost:{plan.ports.services[first]} list"
        )
    return "\n".join(lines)


class _Stop(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _up(args: argparse.Namespace, layout: MeshLayout) -> int:
    plan = _plan(args, layout)
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    supervisor = None
    started = time.monotonic()
    try:
        print(f"Starting the mesh in {layout.data_dir} ...", flush=True)
        supervisor = start_mesh(
            plan, timeout=args.timeout, report=lambda line: print(line, flush=True)
        )
        print(_summary(plan), flush=True)
        print(f"\nHealthy after {time.monotonic() - started:.1f} s.", flush=True)
        if args.detach:
            print(
                f"Running in the background: `agora status --data-dir {layout.data_dir}`, "
                f"`agora down --data-dir {layout.data_dir}`."
            )
            return 0
        print("Press Ctrl-C to stop.", flush=True)
        while supervisor.reachable():
            time.sleep(0.5)
        stop_mesh(layout.data_dir)
        print("supervisord exited; the mesh is down.", file=sys.stderr)
        return 1
    except StartFailure as failure:
        print(f"\nFailed to start {failure.program}: {failure.reason}", file=sys.stderr)
        print(f"--- last lines of {failure.log_path} ---\n{failure.log_tail}\n---", file=sys.stderr)
        print("Stopped everything.", file=sys.stderr)
        return 1
    except MeshError as error:
        print(f"agora up: {error}", file=sys.stderr)
        return 1
    except _Stop as stop:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        print(f"\n{stop}: stopping the mesh ...", flush=True)
        stop_mesh(layout.data_dir)
        print("Stopped.", flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _status(layout: MeshLayout, redis_url: str | None) -> int:
    statuses = mesh_status(layout.data_dir)
    if statuses is None:
        print(f"no mesh is running from {layout.data_dir}")
        return NOT_RUNNING
    print(f"{'PROCESS':<14} {'STATE':<9} {'PID':>7} {'UPTIME':>8}  {'PORT':>5}  HEALTH")
    healthy = True
    for status in statuses:
        if status.ready is None:
            health = "done" if status.state == "EXITED" else "-"
        else:
            health = "ready" if status.ready else "NOT READY"
            healthy = healthy and status.ready
        uptime = f"{status.uptime:.0f}s" if status.uptime else "-"
        print(
            f"{status.name:<14} {status.state:<9} {status.pid or '-':>7} {uptime:>8}  "
            f"{status.port or '-':>5}  {health}"
        )
    state = read_mesh_state(layout.data_dir)
    if state.get("edge"):
        print(
            f"\nedge: {state['edge_url']} (admin: unix socket {state.get('admin_socket')}; "
            "the PORT above is what each process is probed on)"
        )
    print()
    print_event_streams(layout, redis_url)
    return 0 if healthy else 1


def _issue(layout: MeshLayout, *, force: bool, per_identity: bool) -> list[str]:
    if not per_identity:
        return issue_certificates(layout, force=force)
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    return ensure_identity_certificates(
        DevelopmentCA(layout.pki), layout.certs, WORKLOADS, force=force
    )


def _certs(layout: MeshLayout, args: argparse.Namespace) -> int:
    every, force = args.every, args.force
    if every is not None:
        signal.signal(signal.SIGTERM, _raise_stop)
    if args.rotate_intermediate:
        DevelopmentCA(layout.pki).rotate_intermediate()
        print(
            f"new intermediate CA in {layout.pki}; leaves of the previous one are refused "
            "once every process has reloaded",
            flush=True,
        )
    try:
        while True:
            issued = _issue(layout, force=force, per_identity=args.per_identity)
            force = False
            print(
                f"certificates in {layout.certs}: "
                + (f"issued {', '.join(issued)}" if issued else "all valid"),
                flush=True,
            )
            if every is None:
                return 0
            time.sleep(every)
    except (_Stop, KeyboardInterrupt):
        return 0


def _report(line: str) -> None:
    print(line, flush=True)


def _restart(layout: MeshLayout, args: argparse.Namespace) -> int:
    report = _report
    started = time.monotonic()
    try:
        if args.service == "edge":
            restart_edge(layout.data_dir, timeout=args.timeout, report=report)
        else:
            print(f"Restarting {args.service}, one worker at a time ...", flush=True)
            workers = restart_service(
                layout.data_dir,
                args.service,
                timeout=args.timeout,
                settle=args.settle,
                report=report,
            )
            print(
                f"Restarted {len(workers)} worker(s) of {args.service} in "
                f"{time.monotonic() - started:.1f} s.",
                flush=True,
            )
    except RestartFailure as failure:
        print(
            f"\nagora restart: {failure.program} did not come back: {failure.reason}",
            file=sys.stderr,
        )
        print(f"--- last lines of {failure.log_path} ---\n{failure.log_tail}\n---", file=sys.stderr)
        return 1
    return 0


def _create_admin(layout: MeshLayout, args: argparse.Namespace) -> int:
    env = {**os.environ, **program_environment(layout.data_dir, "user")}
    argv = [
        sys.executable,
        "-m",
        "services.user",
        "create-admin",
        "--email",
        args.email,
        "--display-name",
        args.display_name,
    ]
    if args.password:
        argv += ["--password", args.password]
    return subprocess.run(argv, env=env, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``agora`` with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Exit codes: 0 success; 1 failure (start failed, unhealthy, a restarted worker did not
    come back, Redis unreachable for ``events``); 2 bad options; 3 ``status``/``events``:
    no mesh running.
    """
    args = build_parser().parse_args(argv)
    if args.command == "new-service":
        return _new_service(args)
    layout = MeshLayout.at(args.data_dir or _default_data_dir())
    try:
        if args.command == "up":
            return _up(args, layout)
        if args.command == "status":
            return _status(layout, args.redis_url)
        if args.command == "down":
            if stop_mesh(layout.data_dir, args.timeout):
                print(f"stopped the mesh in {layout.data_dir}")
            else:
                print(f"no mesh is running from {layout.data_dir}")
            return 0
        if args.command == "restart":
            return _restart(layout, args)
        if args.command == "events":
            return _events(args, layout)
        if args.command == "create-admin":
            return _create_admin(layout, args)
        return _certs(layout, args)
    except (MeshError, LookupError) as error:
        print(f"agora {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
