"""Readiness probes: gRPC health (``grpc.health.v1``) over mTLS and Envoy's admin ``/ready``."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

UNREACHABLE = "UNREACHABLE"


def grpc_health(address: str, cert_dir: Path, *, service: str = "", timeout: float = 2.0,
                identity: str = "cli") -> str:
    """Ask the server at ``address`` (``host:port``) for its health over mTLS.

    Presents ``<cert_dir>/<identity>.crt``/``.key`` and trusts ``<cert_dir>/root_ca.crt``
    (``pkg.mtls.channel_credentials``, which waits out a renewal caught between key and
    certificate; leaves carry ``localhost`` and ``127.0.0.1``, so no target-name override
    is needed). Returns the ``HealthCheckResponse.ServingStatus`` name (``SERVING``,
    ``NOT_SERVING``, ``SERVICE_UNKNOWN``, ...) or ``UNREACHABLE`` when the call fails within
    ``timeout`` seconds or the key still does not match the certificate. Raises ``OSError``
    when a certificate file is missing.
    """
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from pkg.mtls import channel_credentials

    try:
        credentials = channel_credentials(cert_dir, identity)
    except ValueError:
        return UNREACHABLE
    with grpc.secure_channel(address, credentials) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            return UNREACHABLE
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def envoy_ready(admin_host: str, admin_port: int, timeout: float = 2.0) -> bool:
    """Return True when Envoy's admin ``GET /ready`` answers 200 (state LIVE)."""
    url = f"http://{admin_host}:{admin_port}/ready"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
