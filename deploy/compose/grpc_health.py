"""Container healthcheck: exit 0 only if a gRPC server reports SERVING over mTLS.

    python /opt/agora/grpc_health.py 127.0.0.1:50051 --server auth --identity auth

Presents ``<cert dir>/<identity>.crt``/``.key`` (default ``cli``, the operator identity; in
Compose each container probes itself with its own identity, the only key it holds), trusts
``<cert dir>/intermediate_ca.crt`` (the current intermediate, as every mesh peer does) and
requires the server's certificate to carry the DNS SAN ``--server`` (the dev CA issues
``<name>`` and ``localhost``), so a healthy answer proves the process is the workload it
claims to be. The cert dir is ``--cert-dir`` or ``$AGORA_CERT_DIR``.
Exit codes: 0 SERVING, 1 anything else (status or error printed on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def check(
    address: str,
    cert_dir: Path,
    *,
    server: str,
    identity: str = "cli",
    service: str = "",
    timeout: float = 3.0,
) -> str:
    """Return the serving status name (``SERVING``, ``NOT_SERVING``, ...) or raise RpcError."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    credentials = grpc.ssl_channel_credentials(
        root_certificates=(cert_dir / "intermediate_ca.crt").read_bytes(),
        private_key=(cert_dir / f"{identity}.key").read_bytes(),
        certificate_chain=(cert_dir / f"{identity}.crt").read_bytes(),
    )
    options = [("grpc.ssl_target_name_override", server)]
    with grpc.secure_channel(address, credentials, options=options) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("--server", required=True, help="expected DNS SAN (service name)")
    parser.add_argument("--cert-dir", type=Path, default=os.environ.get("AGORA_CERT_DIR"))
    parser.add_argument("--identity", default="cli", help="client certificate to present")
    parser.add_argument("--service", default="", help="grpc.health.v1 service name ('' = all)")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    if args.cert_dir is None:
        parser.error("--cert-dir or AGORA_CERT_DIR is required")
    try:
        status = check(
            args.address,
            args.cert_dir,
            server=args.server,
            identity=args.identity,
            service=args.service,
            timeout=args.timeout,
        )
    except Exception as exc:  # grpc.RpcError, OSError: unhealthy either way
        print(f"{args.address}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if status != "SERVING":
        print(f"{args.address}: {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
