"""The mesh targets: GetUser straight to the user service, through the edge as gRPC and
as HTTP/JSON, at a fixed rate, and with one user worker (the scaling ratio's divisor)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from pkg.runtime import MeshLayout, Supervisor, edge_host_health

from .commerce import bench_commerce
from .cpu import listening_pids
from .loadgen import grpc_frame, h2load, wrk
from .mesh import Mesh, get_token, mesh_down, mesh_up
from .origin import start_origin
from .processes import Processes
from .results import FIXED_RATE, GET_USER_PATH, GRPC_HEADERS, WORKERS, Result, Settings


def mesh_rows() -> list[Result]:
    """The unmeasured rows of the mesh targets, in table order."""
    return [
        Result("user-direct", "GetUser → user service (mTLS, via TLS-origination hop)"),
        Result("edge-grpc", f"GetUser → Envoy edge, gRPC over TLS (h2), {WORKERS} user workers"),
        Result("edge-http", "GET /v1/users/me → Envoy edge, HTTP/JSON over TLS"),
        Result(
            "edge-grpc-fixed",
            f"GetUser → edge, gRPC, fixed {FIXED_RATE} RPS "
            f"(10 clients, open loop), {WORKERS} user workers",
        ),
        Result("edge-grpc-1w", "GetUser → edge, gRPC, 1 user worker (user-2 stopped)"),
    ]


def bench_mesh(
    tools: dict[str, str],
    s: Settings,
    work: Path,
    procs: Processes,
    rows: list[Result],
    existing: Path | None,
    get_user: bool = True,
) -> None:
    """Bring the mesh up (or use ``existing``), measure the GetUser paths (unless not
    ``get_user``), then the commerce paths (``commerce.bench_commerce``), take it down.

    Appends the ``mesh_rows()`` (when ``get_user``) and the commerce rows to ``rows``;
    when the mesh or the token cannot be had, each carries the reason in its note.
    """
    targets = mesh_rows() if get_user else []
    rows.extend(targets)
    mesh: Mesh | None = None
    try:
        try:
            mesh = mesh_up(work, existing)
            token = get_token(mesh)
        except (RuntimeError, OSError, ValueError) as exc:
            for target in targets:
                target.note = f"not measurable: {exc}"
            return
        if get_user:
            bench_get_user(tools, s, work, procs, mesh, token, targets)
        bench_commerce(tools, s, work, mesh, rows)
    finally:
        if mesh is not None:
            mesh_down(mesh)


def bench_get_user(
    tools: dict[str, str],
    s: Settings,
    work: Path,
    procs: Processes,
    mesh: Mesh,
    token: str,
    targets: list[Result],
) -> None:
    """Measure the ``mesh_rows()`` (``targets``, in that order) with ``token``."""
    direct, edge_grpc, edge_http, fixed, single = targets
    from agora.user.v1 import user_pb2

    data = work / "get_user.bin"
    data.write_bytes(grpc_frame(user_pb2.GetUserRequest(name="users/me").SerializeToString()))
    headers = [*GRPC_HEADERS, f"authorization: Bearer {token}"]
    roots = listening_pids(mesh.ports)
    origin: subprocess.Popen[bytes] | None = None
    try:
        port, origin = start_origin(
            procs,
            tools["envoy"],
            work,
            "user",
            mesh.user_workers[0],
            mesh.cert_dir,
            server="user",
            client="cli",
        )
        h2load(
            tools,
            s,
            work,
            direct,
            f"http://127.0.0.1:{port}{GET_USER_PATH}",
            data,
            headers,
            {**roots, "TLS-origination Envoy": origin.pid},
        )
    except (RuntimeError, OSError) as exc:
        direct.note = f"not measurable: {exc}"
    finally:
        if origin is not None:
            procs.stop(origin)
    edge_url = f"https://127.0.0.1:{mesh.edge_port}{GET_USER_PATH}"
    h2load(tools, s, work, edge_grpc, edge_url, data, headers, roots)
    wrk(
        tools,
        s,
        work,
        edge_http,
        f"https://127.0.0.1:{mesh.edge_port}/v1/users/me",
        [f"Authorization: Bearer {token}"],
        roots,
    )
    h2load(
        tools,
        s,
        work,
        fixed,
        edge_url,
        data,
        headers,
        roots,
        shape=["-c", "10", "-m", "1", "--rps", str(FIXED_RATE // 10)],
    )
    ports = mesh.ports
    one_worker(
        mesh,
        lambda: h2load(tools, s, work, single, edge_url, data, headers, listening_pids(ports)),
        single,
    )


def one_worker(mesh: Mesh, measure: Callable[[], object], result: Result) -> None:
    """Run ``measure()`` with only ``user-1`` serving.

    ``user-2`` is stopped through supervisord, Envoy's health checks drop it (until its
    admin ``/clusters`` no longer shows it healthy, at most 30 s, else ``result`` gets a
    note and nothing is measured); afterwards it is started again and awaited (60 s).
    """
    supervisor = Supervisor(MeshLayout.at(mesh.data_dir))
    second = mesh.user_workers[1]
    supervisor.stop("user-2")
    try:
        deadline = time.monotonic() + 30
        while "healthy" in edge_host_health(mesh.admin_socket, second):
            if time.monotonic() > deadline:
                result.note = "Envoy still routed to the stopped user-2 after 30 s"
                return
            time.sleep(0.5)
        measure()
    finally:
        supervisor.start("user-2")
        deadline = time.monotonic() + 60
        while (
            "healthy" not in edge_host_health(mesh.admin_socket, second)
            and time.monotonic() < deadline
        ):
            time.sleep(0.5)
