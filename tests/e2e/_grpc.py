"""gRPC helpers for the e2e tests: mTLS channels straight to a service, and grpcurl."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import grpc

from ._mesh import Mesh, executable, tool_env


def mtls_channel(mesh: Mesh, service: str, identity: str) -> grpc.aio.Channel:
    """A ``grpc.aio`` channel straight to ``service``'s port presenting ``identity``'s cert."""
    certs = mesh.cert_dir
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(certs / "root_ca.crt").read_bytes(),
        private_key=(certs / f"{identity}.key").read_bytes(),
        certificate_chain=(certs / f"{identity}.crt").read_bytes(),
    )
    return grpc.aio.secure_channel(f"localhost:{mesh.service_port(service)}", credentials)


def grpcurl(
    mesh: Mesh, *args: str, data: str | None = None, flags: Sequence[str] = (), timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """``grpcurl -cacert <root_ca> [flags] [-d data] localhost:<edge> <args>`` (server
    reflection); ``flags`` are more grpcurl options, e.g. ``("-protoset-out", path)``."""
    argv = [executable("grpcurl"), "-cacert", str(mesh.root_ca), "-max-time", "20", *flags]
    if data is not None:
        argv += ["-d", data]
    argv += [mesh.edge_target, *args]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env=tool_env(), check=False
    )
