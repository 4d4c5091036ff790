"""The echo baselines: ``bench/echo_server.py`` (aio or sync, optionally mTLS) measured
with h2load on ``grpc.health.v1.Health/Check``; the mTLS one through the origination hop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pkg.pki import DevelopmentCA, ensure_mesh_certificates

from .loadgen import grpc_frame, h2load
from .origin import start_origin
from .processes import Processes, wait_ready_line
from .results import BENCH, GRPC_HEADERS, HEALTH_PATH, Result, Settings

ECHO = "echo"
"""Workload name of the mTLS echo server (its SPIFFE ID and DNS SAN)."""
CLIENT = "cli"
"""Workload name of the certificate the origination hop presents to it."""


def echo_certs(directory: Path) -> Path:
    """A throw-away development CA under ``directory/pki`` and, in ``directory/certs``, the
    mesh's certificate files for ``echo`` (server) and ``cli`` (client): the certificate
    directory (``pkg.pki.ensure_mesh_certificates``)."""
    certs = directory / "certs"
    ensure_mesh_certificates(DevelopmentCA(directory / "pki"), certs, [ECHO, CLIENT])
    return certs


def bench_echo(
    tools: dict[str, str],
    s: Settings,
    work: Path,
    procs: Processes,
    name: str,
    what: str,
    mode: str,
    mtls: Path | None,
) -> Result:
    """Start an echo server (``mode`` aio/sync; mTLS with the certificate directory
    ``mtls``), measure it, stop it. A start failure becomes the row's note."""
    result = Result(name, what)
    from grpc_health.v1 import health_pb2

    data = work / "health.bin"
    data.write_bytes(grpc_frame(health_pb2.HealthCheckRequest().SerializeToString()))
    server_log = work / f"{name}.log"
    cmd = [
        sys.executable,
        str(BENCH / "echo_server.py"),
        "--mode",
        mode,
        "--workers",
        str(s.sync_workers),
    ]
    if mtls is not None:
        cmd += ["--tls", str(mtls), "--tls-name", ECHO]
    server = procs.start(cmd, server_log)
    origin: subprocess.Popen[bytes] | None = None
    try:
        port = wait_ready_line(server_log, server)
        if mtls is not None:
            port, origin = start_origin(
                procs, tools["envoy"], work, name, port, mtls, server=ECHO, client=CLIENT
            )
        roots = {"echo server": server.pid}
        if origin is not None:
            roots["TLS-origination Envoy"] = origin.pid
        return h2load(
            tools,
            s,
            work,
            result,
            f"http://127.0.0.1:{port}{HEALTH_PATH}",
            data,
            list(GRPC_HEADERS),
            roots,
        )
    except (RuntimeError, OSError) as exc:
        result.note = str(exc)
        return result
    finally:
        if origin is not None:
            procs.stop(origin)
        procs.stop(server)
