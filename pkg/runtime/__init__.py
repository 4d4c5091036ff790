"""Agora's local runtime: embedded PostgreSQL and Redis, readiness probes, and the
supervised mesh behind ``agora up`` / ``agora status`` / ``agora down``.

Servers: ``EmbeddedPostgres``, ``EmbeddedRedis`` (PyPI wheels, foreground processes),
``ensure_database``, and the test-suite context managers ``postgres_server`` /
``redis_server`` (honour ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL``).
Ports and logs: ``free_port``, ``free_port_base`` (a ``--port-base`` with every worker
port free), ``port_is_free``, ``port_is_open``, ``tail`` (the end of a log file).
Mesh: ``SERVICES`` (the service table), ``MeshPlan``, ``MeshPorts``, ``MeshLayout``,
``start_mesh``, ``mesh_status``, ``stop_mesh`` (also of programs a killed supervisord left
running), ``read_mesh_state``, ``issue_certificates``,
``program_environment``, ``mesh_redis_url`` (the mesh's Redis URL with its password);
rolling restarts: ``restart_service`` (one worker at a time, each back in SERVING and
routed by the edge before the next), ``restart_edge``, ``edge_host_health``.
See docs/architecture.md and docs/adr/0006-process-supervision.md.
Nothing here does I/O at import time.
"""

from pkg.runtime._fixtures import postgres_server, redis_server
from pkg.runtime._logs import tail
from pkg.runtime._mesh import (
    DEFAULT_PORT_BASE,
    SERVICES,
    WORKLOADS,
    MeshError,
    MeshLayout,
    MeshPlan,
    MeshPorts,
    Program,
    ServiceSpec,
    free_port_base,
    read_mesh_state,
)
from pkg.runtime._mesh_redis import mesh_redis_url
from pkg.runtime._ports import free_port, port_is_free, port_is_open
from pkg.runtime._postgres import EmbeddedPostgres, ensure_database
from pkg.runtime._redis import EmbeddedRedis
from pkg.runtime._restart import (
    RestartedWorker,
    RestartFailure,
    edge_host_health,
    restart_edge,
    restart_service,
)
from pkg.runtime._supervisor import (
    Supervisor,
    SupervisorError,
    program_environment,
    render_supervisord_conf,
)
from pkg.runtime._up import (
    ProgramStatus,
    StartFailure,
    issue_certificates,
    mesh_status,
    start_mesh,
    stop_mesh,
)

__all__ = [
    "DEFAULT_PORT_BASE",
    "SERVICES",
    "WORKLOADS",
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "MeshError",
    "MeshLayout",
    "MeshPlan",
    "MeshPorts",
    "Program",
    "ProgramStatus",
    "RestartFailure",
    "RestartedWorker",
    "ServiceSpec",
    "StartFailure",
    "Supervisor",
    "SupervisorError",
    "edge_host_health",
    "ensure_database",
    "free_port",
    "free_port_base",
    "issue_certificates",
    "mesh_redis_url",
    "mesh_status",
    "port_is_free",
    "port_is_open",
    "postgres_server",
    "program_environment",
    "read_mesh_state",
    "redis_server",
    "render_supervisord_conf",
    "restart_edge",
    "restart_service",
    "start_mesh",
    "stop_mesh",
    "tail",
]
