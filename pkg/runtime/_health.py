"""Readiness probes: gRPC health (``grpc.health.v1``) over mTLS and Envoy's admin ``/ready``."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

UNREACHABLE = "UNREACHABLE"


def _credentials(cert_dir: Path, identity: str) -> Any:
    import grpc

    return grpc.ssl_channel_credentials(
        root_certificates=(cert_dir / "root_ca.crt").read_bytes(),
        private_key=(cert_dir / f"{identity}.key").read_bytes(),
        certificate_chain=(cert_dir / f"{identity}.crt").read_bytes(),
    )


def grpc_health(address: str, cert_dir: Path, *, service: str = "", timeout: float = 2.0,
                identity: str = "cli") -> str:
    """Ask the server at ``address`` (``host:port``) for its health over mTLS.

    Presents ``<cert_dir>/<identity>.crt``/``.key`` and trusts ``<cert_dir>/root_ca.crt``
    (leaves carry ``localhost`` and ``127.0.0.1``, so no target-name override is needed).
    Returns the ``HealthCheckResponse.ServingStatus`` name (``SERVING``, ``NOT_SERVING``,
    ``SERVICE_UNKNOWN``, ...) or ``UNREACHABLE`` when the call fails within ``timeout``
    seconds. Raises ``FileNotFoundError`` when a certificate file is missing.
    """
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    credentials = _credentials(cert_dir, identity)
    with grpc.secure_channel(address, credentials) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            return UNREACHABLE
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def wait_for_grpc_health(address: str, cert_dir: Path, *, service: str = "",
                         timeout: float = 60.0, interval: float = 0.25) -> None:
    """Block until ``grpc_health(address, cert_dir, service=service)`` is ``SERVING``.

    ``timeout`` and ``interval`` are in seconds. Raises ``TimeoutError`` naming the last
    status seen.
    """
    deadline = time.monotonic() + timeout
    status = UNREACHABLE
    while time.monotonic() < deadline:
        status = grpc_health(address, cert_dir, service=service,
                             timeout=max(0.1, min(2.0, deadline - time.monotonic())))
        if status == "SERVING":
            return
        time.sleep(interval)
    raise TimeoutError(f"{address} health is {status} after {timeout:g} s")


def envoy_ready(admin_host: str, admin_port: int, timeout: float = 2.0) -> bool:
    """Return True when Envoy's admin ``GET /ready`` answers 200 (state LIVE)."""
    url = f"http://{admin_host}:{admin_port}/ready"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
