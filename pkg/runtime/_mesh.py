"""What ``agora up`` runs: the service table, the ports, the data-directory layout.

Everything here is data and rendering (no process starts): ``MeshPlan.programs()`` lists
the processes in start order with their argv and environment; ``_supervisor`` turns them
into a ``supervisord.conf``. The service table is data: ``services/registry.toml``
(``load_services``), so adding a service (``agora new-service``) adds a table entry, no code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pkg.config import DEFAULT_CURRENCY
from pkg.registry import DEFAULT_PORT_BASE as DEFAULT_PORT_BASE
from pkg.registry import REGISTRY, RegistryError, load_registry, workloads
from pkg.registry import ServiceSpec as ServiceSpec

if TYPE_CHECKING:
    from pkg.runtime._postgres import EmbeddedPostgres
    from pkg.runtime._redis import EmbeddedRedis

DEFAULT_EDGE_PORT = 8443
DEFAULT_POSTGRES_PORT = 54329
DEFAULT_REDIS_PORT = 63790
DEFAULT_JWKS_PORT = 9902
WORKER_PORT_STRIDE = 10
MAX_WORKERS = 32
JWT_ISSUER = "https://auth.agora.local"
JWT_AUDIENCE = "agora"


class MeshError(RuntimeError):
    """The mesh cannot be started, reached or stopped; the message says why."""


class ProgramFailure(MeshError):
    """A supervised program did not become ready; ``program`` names it, ``reason`` says
    why, and ``log_tail`` ends its log at ``log_path``."""

    def __init__(self, program: str, reason: str, log_path: Path, log_tail: str) -> None:
        super().__init__(f"{program}: {reason}")
        self.program = program
        self.reason = reason
        self.log_path = log_path
        self.log_tail = log_tail


Report = Callable[[str], None]
"""Where progress lines go (``print`` by default)."""

FAILED_STATES = frozenset({"BACKOFF", "FATAL", "EXITED", "STOPPED", "UNKNOWN"})
"""supervisord process states of a program that is not running and not starting."""


def load_services(path: Path = REGISTRY) -> tuple[ServiceSpec, ...]:
    """The ``ServiceSpec`` of every ``[[service]]`` in the TOML file ``path``, in file order
    (``pkg.registry.load_registry``). Raises ``MeshError`` when the file is missing, not
    TOML, or breaks a rule of the table (an entry lacks a field, has an unknown one, repeats
    a name or port offset, ...)."""
    try:
        return load_registry(path)
    except RegistryError as exc:
        raise MeshError(str(exc)) from exc


SERVICES: tuple[ServiceSpec, ...] = load_services()
"""The services of ``services/registry.toml``, read once when ``pkg.runtime`` is imported."""


WORKLOADS = workloads(SERVICES)
"""Every identity ``agora up`` issues a certificate for: the services, Envoy, the operator."""


def default_workers() -> int:
    """Worker processes per service when none are asked for: ``min(2, os.cpu_count())``."""
    return max(1, min(2, os.cpu_count() or 1))


def worker_program(service: str, index: int) -> str:
    """The supervisord program of worker ``index`` (0-based) of ``service``: ``user-1``, ..."""
    return f"{service}-{index + 1}"


def free_port_base(
    workers: int | None = None, *, host: str = "127.0.0.1", attempts: int = 50
) -> int:
    """Return a ``--port-base`` whose worker ports are all free on ``host`` right now.

    Worker ``i`` of each service in ``SERVICES`` listens on ``base + port_offset + 10 * i``
    (``MeshPorts.derive``); ``workers`` per service (default ``default_workers()``).
    Candidates come from the kernel (``free_port() - 1``), so another process may still
    take a port before ``agora up`` binds it. Raises ``MeshError`` after ``attempts``
    candidates with a busy port.
    """
    from pkg.runtime._ports import free_port, port_is_free

    count = default_workers() if workers is None else workers
    offsets = [s.port_offset + WORKER_PORT_STRIDE * i for s in SERVICES for i in range(count)]
    for _ in range(attempts):
        base = free_port(host) - 1
        if base + max(offsets) < 65536 and all(port_is_free(host, base + o) for o in offsets):
            return base
    raise MeshError(f"no free port base for {count} workers per service after {attempts} tries")


def service_spec(name: str) -> ServiceSpec:
    """Return the ``ServiceSpec`` called ``name``; raises ``KeyError`` for an unknown one."""
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown service {name!r} (known: {', '.join(s.name for s in SERVICES)})")


@dataclass(frozen=True)
class MeshPorts:
    """Every TCP port of one mesh (all on 127.0.0.1).

    ``workers`` maps a service name to the ports of its worker processes, in worker order;
    ``services`` maps it to the first worker's port. Envoy's admin has no port: it is a
    unix socket (``MeshLayout.admin_socket``).
    """

    edge: int
    jwks: int
    postgres: int
    redis: int
    services: dict[str, int] = field(default_factory=dict)
    workers: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def derive(
        cls,
        *,
        edge: int = DEFAULT_EDGE_PORT,
        port_base: int = DEFAULT_PORT_BASE,
        jwks: int | None = None,
        postgres: int | None = None,
        redis: int | None = None,
        workers: dict[str, int] | None = None,
        pick_free: Any = None,
    ) -> MeshPorts:
        """Ports from the ``agora up`` options.

        Worker ``i`` (0-based) of a service listens on ``port_base + port_offset + 10 * i``;
        ``workers`` maps a service name to its number of workers (default
        ``default_workers()``). PostgreSQL, Redis and Envoy's JWKS listener take the
        given port, else the documented default (54329, 63790, 9902) when
        ``port_base`` is the default 50050, else a free port from ``pick_free()`` (so a
        second mesh with another base never collides with the first). Raises
        ``ValueError`` for a worker count outside 1..32.
        """
        from pkg.runtime._ports import free_port

        choose = pick_free or free_port
        default = port_base == DEFAULT_PORT_BASE
        counts = {s.name: (workers or {}).get(s.name, default_workers()) for s in SERVICES}
        for name, count in counts.items():
            if not 1 <= count <= MAX_WORKERS:
                raise ValueError(f"{name}: {count} workers (1..{MAX_WORKERS} allowed)")

        def pick(given: int | None, documented: int) -> int:
            if given is not None:
                return given
            return documented if default else int(choose())

        worker_ports = {
            s.name: [
                port_base + s.port_offset + WORKER_PORT_STRIDE * i for i in range(counts[s.name])
            ]
            for s in SERVICES
        }
        return cls(
            edge=edge,
            jwks=pick(jwks, DEFAULT_JWKS_PORT),
            postgres=pick(postgres, DEFAULT_POSTGRES_PORT),
            redis=pick(redis, DEFAULT_REDIS_PORT),
            services={name: ports[0] for name, ports in worker_ports.items()},
            workers=worker_ports,
        )

    def worker_ports(self, service: str) -> list[int]:
        """The ports of ``service``'s workers (just ``services[service]`` when unlisted)."""
        return list(self.workers.get(service) or [self.services[service]])


@dataclass(frozen=True)
class MeshLayout:
    """Where one mesh keeps its state, all under ``data_dir`` (absolute).

    ``mesh.json`` (ports, URLs, what runs), ``supervisord.conf``, ``supervisord.pid``,
    ``supervisor.sock`` (in ``/tmp`` when the path is too long for a unix socket),
    ``logs/<program>.log``, ``postgres/`` (PGDATA), ``redis/`` (``dump.rdb``), ``pki/``
    (CA state), ``certs/`` (``AGORA_CERT_DIR``), ``envoy/envoy.yaml``,
    ``envoy/admin.sock`` (Envoy's admin, mode 0600), ``secrets/`` (mode 0700: the
    generated ``postgres.password``, ``redis.password`` and ``redis.conf``, mode 0600),
    ``auth/keys/``, ``<service>/jwks.json`` (a service's last good JWKS of auth,
    ``user/jwks.json``). ``agora up`` keeps ``data_dir`` private (``_private``).
    """

    data_dir: Path

    @classmethod
    def at(cls, data_dir: Path) -> MeshLayout:
        """The layout of ``data_dir`` (made absolute, not created)."""
        return cls(Path(data_dir).expanduser().absolute())

    @property
    def mesh_file(self) -> Path:
        """``<data>/mesh.json``."""
        return self.data_dir / "mesh.json"

    @property
    def supervisord_conf(self) -> Path:
        """``<data>/supervisord.conf``."""
        return self.data_dir / "supervisord.conf"

    @property
    def pid_file(self) -> Path:
        """``<data>/supervisord.pid``."""
        return self.data_dir / "supervisord.pid"

    @property
    def socket(self) -> Path:
        """The supervisor control socket (``<data>/supervisor.sock`` if short enough)."""
        local = self.data_dir / "supervisor.sock"
        if len(str(local)) <= 100:
            return local
        return Path("/tmp") / f"agora-{self.digest[:16]}.sock"  # noqa: S108

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the absolute data directory: a stable id of this mesh."""
        return hashlib.sha256(str(self.data_dir).encode()).hexdigest()

    @property
    def envoy_base_id(self) -> int:
        """Envoy ``--base-id``, unique per data directory (24 bits of ``digest``)."""
        return int(self.digest[:6], 16)

    @property
    def logs(self) -> Path:
        """``<data>/logs``."""
        return self.data_dir / "logs"

    def log(self, program: str) -> Path:
        """``<data>/logs/<program>.log``: the program's log."""
        return self.logs / f"{program}.log"

    def out(self, program: str) -> Path:
        """``<data>/logs/<program>.out``: stdout and stderr of a program that writes its own
        ``log`` (``Program.own_log``), e.g. a traceback of a crash before logging started."""
        return self.logs / f"{program}.out"

    @property
    def postgres(self) -> Path:
        """PGDATA, ``<data>/postgres``."""
        return self.data_dir / "postgres"

    @property
    def redis(self) -> Path:
        """``<data>/redis``."""
        return self.data_dir / "redis"

    @property
    def pki(self) -> Path:
        """The CA's state, ``<data>/pki``."""
        return self.data_dir / "pki"

    @property
    def certs(self) -> Path:
        """The certificate directory, ``<data>/certs``."""
        return self.data_dir / "certs"

    @property
    def envoy_config(self) -> Path:
        """``<data>/envoy/envoy.yaml``."""
        return self.data_dir / "envoy" / "envoy.yaml"

    @property
    def admin_socket(self) -> Path:
        """Envoy's admin unix socket: ``<data>/envoy/admin.sock``, or, when that path is
        too long for a socket, ``admin.sock`` in the private folder
        ``/tmp/agora-<digest[:16]>/`` (mode 0700, made by ``agora up``)."""
        local = self.data_dir / "envoy" / "admin.sock"
        if len(str(local)) <= 100:
            return local
        return Path("/tmp") / f"agora-{self.digest[:16]}" / "admin.sock"  # noqa: S108

    @property
    def secrets(self) -> Path:
        """The generated credentials, ``<data>/secrets`` (mode 0700)."""
        return self.data_dir / "secrets"

    @property
    def postgres_password(self) -> Path:
        """The embedded PostgreSQL superuser's password, ``<data>/secrets/postgres.password``."""
        return self.secrets / "postgres.password"

    @property
    def redis_password(self) -> Path:
        """The embedded Redis's password, ``<data>/secrets/redis.password`` (its
        ``requirepass`` config: ``redis.conf`` beside it)."""
        return self.secrets / "redis.password"


ProbeKind = Literal["postgres", "redis", "exit", "grpc", "envoy", "running"]
CERT_RENEW_INTERVAL = 600
SERVICE_STOP_WAIT = 15
"""Seconds supervisord waits after SIGTERM before SIGKILL for a service worker: more than
its drain window (3 s) plus its stop grace (5 s)."""


@dataclass(frozen=True)
class Program:
    """One supervised process: ``argv``, extra ``env``, and how to tell it is ready.

    ``probe`` is ``postgres``/``redis`` (answers queries on ``port``), ``exit`` (one-shot,
    done when it exits 0), ``grpc`` (health SERVING on ``port``), ``envoy`` (admin
    ``/ready`` on the admin socket; no ``port``) or ``running`` (the process is up).
    ``priority``: lower starts first and stops last.  ``own_log``: the process writes
    ``logs/<name>.log`` itself (``AGORA_LOG_FILE``), and supervisord keeps its stdout and
    stderr in ``<name>.out``.
    """

    name: str
    argv: tuple[str, ...]
    env: dict[str, str]
    priority: int
    probe: ProbeKind
    port: int | None = None
    stop_signal: str = "TERM"
    stop_wait: int = 15
    stop_as_group: bool = True
    directory: str | None = None
    own_log: bool = False


@dataclass
class MeshPlan:
    """One mesh to run: layout, ports, which services, and where PostgreSQL/Redis are.

    ``database_url``/``redis_url`` name external servers (``DATABASE_URL``/``REDIS_URL``,
    with their own credentials); None means the embedded server runs in the mesh, with
    the generated password of ``layout.postgres_password`` / ``layout.redis_password``.
    ``services`` are names from ``SERVICES`` to run; ``edge`` adds Envoy.
    ``cors_origins``: the origins (``https://app.example.com``) whose browser requests the
    edge allows (none by default).
    """

    layout: MeshLayout
    ports: MeshPorts
    services: tuple[str, ...] = tuple(s.name for s in SERVICES)
    edge: bool = True
    database_url: str | None = None
    redis_url: str | None = None
    log_level: str = "INFO"
    python: str = sys.executable
    envoy: str = "envoy"
    cors_origins: tuple[str, ...] = ()

    @cached_property
    def embedded_postgres(self) -> EmbeddedPostgres:
        """The embedded PostgreSQL of this mesh (used only when ``database_url`` is None)."""
        from pkg.runtime._postgres import EmbeddedPostgres

        return EmbeddedPostgres(
            self.layout.postgres,
            self.ports.postgres,
            log_path=self.layout.log("postgres"),
            password_file=self.layout.postgres_password,
        )

    @cached_property
    def embedded_redis(self) -> EmbeddedRedis:
        """The embedded Redis of this mesh (used only when ``redis_url`` is None)."""
        from pkg.runtime._redis import EmbeddedRedis

        return EmbeddedRedis(
            self.layout.redis,
            self.ports.redis,
            log_path=self.layout.log("redis"),
            password_file=self.layout.redis_password,
        )

    @property
    def server_database_url(self) -> str:
        """The PostgreSQL server URL (``postgresql://user:password@...``) the services'
        databases live on; reading it generates the embedded server's password if needed."""
        return self.database_url or self.embedded_postgres.url

    @property
    def server_redis_url(self) -> str:
        """The Redis URL every service gets (with the password)."""
        return self.redis_url or self.embedded_redis.url

    @property
    def edge_url(self) -> str:
        """``https://localhost:<edge port>``."""
        return f"https://localhost:{self.ports.edge}"

    def endpoints(self) -> dict[str, str]:
        """``AGORA_ENDPOINTS``: every known service's gRPC target, naming all its workers.

        gRPC's multi-address ``ipv4:`` URI (``ipv4:127.0.0.1:P1,127.0.0.1:P2``,
        grpc/doc/naming.md), which a ``round_robin`` channel spreads calls over.
        """
        return {
            s.name: "ipv4:"
            + ",".join(f"127.0.0.1:{port}" for port in self.ports.worker_ports(s.name))
            for s in SERVICES
        }

    def edge_endpoints(self) -> dict[str, list[tuple[str, int]]]:
        """The edge's upstreams: every worker ``(host, port)`` of each service."""
        return {
            s.name: [("127.0.0.1", port) for port in self.ports.worker_ports(s.name)]
            for s in SERVICES
        }

    def database_url_of(self, spec: ServiceSpec) -> str:
        """The SQLAlchemy URL of ``agora_<name>`` on the mesh's server."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.server_database_url)
        return urlunsplit(
            ("postgresql+psycopg", parts.netloc, f"/agora_{spec.name}", parts.query, "")
        )

    def service_env(self, spec: ServiceSpec, worker: int = 0) -> dict[str, str]:
        """The environment of ``spec``'s worker ``worker`` (0-based; docs/architecture.md).

        Every worker of a service gets the same environment but ``AGORA_<NAME>_LISTEN``.
        """
        data = str(self.layout.data_dir)
        env = {
            "AGORA_ENVIRONMENT": "development",
            "AGORA_CERT_DIR": str(self.layout.certs),
            "AGORA_ENDPOINTS": json.dumps(self.endpoints(), separators=(",", ":")),
            "AGORA_JWT_ISSUER": JWT_ISSUER,
            "AGORA_JWT_AUDIENCE": JWT_AUDIENCE,
            "AGORA_LOG_LEVEL": self.log_level,
            # the mesh's one currency (pkg.money): the operator's, else the default
            "AGORA_CURRENCY": os.environ.get("AGORA_CURRENCY", DEFAULT_CURRENCY),
            f"{spec.prefix}LISTEN": f"127.0.0.1:{self.ports.worker_ports(spec.name)[worker]}",
            "PYTHONUNBUFFERED": "1",
        }
        if spec.database:
            env[f"{spec.prefix}DATABASE_URL"] = self.database_url_of(spec)
        if spec.redis:
            env[f"{spec.prefix}REDIS_URL"] = self.server_redis_url
        env.update({key: value.replace("{data}", data) for key, value in spec.env})
        return env

    def programs(self) -> list[Program]:
        """Every process of the mesh in start order (infrastructure, migrations, services,
        edge); the embedded servers only when no external URL replaces them."""
        layout, ports = self.layout, self.ports
        programs: list[Program] = []
        if self.services or self.edge:
            programs.append(
                Program(
                    "certs",
                    (
                        self.python,
                        "-m",
                        "pkg.cli.main",
                        "certs",
                        "--data-dir",
                        str(layout.data_dir),
                        "--every",
                        str(CERT_RENEW_INTERVAL),
                    ),
                    {"PYTHONUNBUFFERED": "1"},
                    10,
                    "running",
                    stop_wait=5,
                )
            )
        if self.database_url is None:
            postgres = self.embedded_postgres
            programs.append(
                Program(
                    "postgres",
                    tuple(postgres.command()),
                    {},
                    10,
                    "postgres",
                    ports.postgres,
                    stop_signal="INT",
                    stop_wait=30,
                    stop_as_group=False,
                    directory="/",
                )
            )
        if self.redis_url is None:
            redis = self.embedded_redis
            programs.append(
                Program(
                    "redis",
                    tuple(redis.command()),
                    {},
                    10,
                    "redis",
                    ports.redis,
                    directory=str(layout.redis),
                )
            )
        selected = [service_spec(name) for name in self.services]
        for spec in selected:
            if spec.database:
                programs.append(
                    Program(
                        f"migrate-{spec.name}",
                        (self.python, "-m", spec.module, "migrate"),
                        self.service_env(spec),
                        20,
                        "exit",
                    )
                )
        for spec in selected:
            for index, port in enumerate(ports.worker_ports(spec.name)):
                name = worker_program(spec.name, index)
                env = {**self.service_env(spec, index), "AGORA_LOG_FILE": str(layout.log(name))}
                programs.append(
                    Program(
                        name,
                        (self.python, "-m", spec.module),
                        env,
                        30,
                        "grpc",
                        port,
                        stop_wait=SERVICE_STOP_WAIT,
                        own_log=True,
                    )
                )
        if self.edge:
            programs.append(
                Program(
                    "edge",
                    (
                        self.envoy,
                        "-c",
                        str(layout.envoy_config),
                        "--base-id",
                        str(layout.envoy_base_id),
                        "--log-level",
                        "info",
                    ),
                    {},
                    40,
                    "envoy",
                    None,
                    stop_wait=10,
                )
            )
        return programs

    def state(self) -> dict[str, Any]:
        """What ``mesh.json`` records: ports, URLs (passwords masked as ``***``), services,
        processes and paths (the admin socket, the secrets folder)."""
        from pkg.runtime._secrets import redact_url

        return {
            "data_dir": str(self.layout.data_dir),
            "edge_url": self.edge_url,
            "ports": asdict(self.ports),
            "services": list(self.services),
            "edge": self.edge,
            "cors_origins": list(self.cors_origins),
            "database_url": redact_url(self.server_database_url),
            "database_embedded": self.database_url is None,
            "redis_url": redact_url(self.server_redis_url),
            "redis_embedded": self.redis_url is None,
            "admin_socket": str(self.layout.admin_socket) if self.edge else None,
            "secrets": str(self.layout.secrets),
            "cert_dir": str(self.layout.certs),
            "logs": str(self.layout.logs),
            "supervisor_socket": str(self.layout.socket),
            "programs": [
                {"name": p.name, "probe": p.probe, "port": p.port} for p in self.programs()
            ],
            "workers": {
                name: [worker_program(name, i) for i in range(len(self.ports.worker_ports(name)))]
                for name in self.services
            },
        }


def read_mesh_state(data_dir: Path) -> dict[str, Any]:
    """Return the parsed ``<data_dir>/mesh.json`` written by ``agora up``.

    Keys: ``data_dir``, ``edge_url``, ``ports`` (``edge``, ``jwks``, ``postgres``,
    ``redis``, ``services``: name to its first worker's port, ``workers``: name to every
    worker's port), ``services``, ``edge``, ``cors_origins``, ``database_url`` and
    ``redis_url`` (passwords masked), ``admin_socket`` (Envoy's admin; None without an
    edge), ``secrets``, ``cert_dir``, ``logs``, ``supervisor_socket``, ``programs``,
    ``workers`` (name to its worker programs, ``user-1``, ...). The file has mode 0600.
    Raises ``FileNotFoundError`` when no mesh was started there.
    """
    data: dict[str, Any] = json.loads(MeshLayout.at(data_dir).mesh_file.read_text())
    return data
