"""Readiness probes: gRPC health (``grpc.health.v1``) over mTLS and Envoy's admin ``/ready``.

Envoy's admin listens on a unix socket of mode 0600 (``MeshLayout.admin_socket``), so only
the user who runs the mesh can reach it; ``admin_get`` speaks HTTP/1.1 over that socket
with the standard library's ``http.client``.
"""

from __future__ import annotations

import http.client
import socket
from pathlib import Path

UNREACHABLE = "UNREACHABLE"


def grpc_health(
    address: str, cert_dir: Path, *, service: str = "", timeout: float = 2.0, identity: str = "cli"
) -> str:
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


class _UnixConnection(http.client.HTTPConnection):
    """An ``HTTPConnection`` whose transport is the unix socket at ``path``."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def admin_get(admin_socket: Path, path: str, timeout: float = 2.0) -> tuple[int, str]:
    """``GET path`` on Envoy's admin at the unix socket ``admin_socket``.

    Returns the HTTP status and the body (UTF-8, undecodable bytes replaced). ``timeout``
    is in seconds, for the connection and each read. Raises ``OSError`` (including
    ``PermissionError`` for another user's socket, ``FileNotFoundError`` when Envoy is not
    listening, ``TimeoutError``) and ``http.client.HTTPException`` for a broken reply.
    """
    connection = _UnixConnection(admin_socket, timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def envoy_ready(admin_socket: Path, timeout: float = 2.0) -> bool:
    """Return True when Envoy's admin ``GET /ready`` (unix socket ``admin_socket``) answers
    200 (state LIVE); False when it answers otherwise or not within ``timeout`` seconds."""
    try:
        status, _ = admin_get(admin_socket, "/ready", timeout)
    except (OSError, http.client.HTTPException):
        return False
    return status == 200
