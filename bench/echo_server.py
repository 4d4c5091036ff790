"""The benchmark's baseline: a bare gRPC server that serves only ``grpc.health.v1`` Check.

No interceptors, no reflection, no application code: what a Python gRPC server costs per
unary call on this machine, the floor every Agora service is compared against.

    python bench/echo_server.py --mode aio  --port 0           # plaintext grpc.aio
    python bench/echo_server.py --mode sync --port 0           # grpc.server + thread pool
    python bench/echo_server.py --mode aio  --tls DIR --port 0 # mTLS (DIR/echo.crt ...)

It prints ``READY <port>`` on stdout once it serves and runs until SIGTERM or SIGINT.
With ``--tls DIR`` (a certificate directory as ``pkg.pki.ensure_mesh_certificates``
writes it) it presents ``DIR/<name>.crt`` / ``DIR/<name>.key`` (``--tls-name``, default
``echo``) and requires a client certificate issued under ``DIR/root_ca.crt``, as Agora's
services do (``pkg.mtls``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


class _SyncHealth(health_pb2_grpc.HealthServicer):
    """Check answers SERVING at once (sync servicer)."""

    def Check(self, request, context):
        """Answer SERVING for every service name."""
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


class _AioHealth(health_pb2_grpc.HealthServicer):
    """Check answers SERVING at once (``grpc.aio`` servicer)."""

    async def Check(self, request, context):
        """Answer SERVING for every service name."""
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


def _bind(server, address: str, tls: Path | None, name: str) -> int:
    if tls is None:
        return server.add_insecure_port(address)
    creds = grpc.ssl_server_credentials(
        [((tls / f"{name}.key").read_bytes(), (tls / f"{name}.crt").read_bytes())],
        root_certificates=(tls / "root_ca.crt").read_bytes(),
        require_client_auth=True,
    )
    return server.add_secure_port(address, creds)


def _ready(port: int) -> None:
    print(f"READY {port}", flush=True)


async def _serve_aio(address: str, tls: Path | None, name: str) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    health_pb2_grpc.add_HealthServicer_to_server(_AioHealth(), server)
    port = _bind(server, address, tls, name)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    _ready(port)
    await stop.wait()
    await server.stop(1)


def _serve_sync(address: str, tls: Path | None, name: str, workers: int) -> None:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers), options=[("grpc.so_reuseport", 0)]
    )
    health_pb2_grpc.add_HealthServicer_to_server(_SyncHealth(), server)
    port = _bind(server, address, tls, name)
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    _ready(port)
    stop.wait()
    server.stop(1).wait()


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve until signalled."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("aio", "sync"), default="aio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--tls",
        type=Path,
        default=None,
        help="certificate directory with <name>.crt, <name>.key, root_ca.crt (mTLS)",
    )
    parser.add_argument(
        "--tls-name",
        default="echo",
        help="workload whose certificate the server presents with --tls",
    )
    parser.add_argument("--workers", type=int, default=16, help="thread pool size of --mode sync")
    args = parser.parse_args(argv)
    address = f"{args.host}:{args.port}"
    if args.mode == "aio":
        asyncio.run(_serve_aio(address, args.tls, args.tls_name))
    else:
        _serve_sync(address, args.tls, args.tls_name, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
