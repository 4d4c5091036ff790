"""Write the edge's Envoy bootstrap for docker compose, with the project's generator.

    python /opt/agora/edge_config.py /data/envoy/envoy.yaml

The same ``pkg.edge.write_envoy_config`` that ``agora up`` calls, with compose's values:
upstream endpoints from ``AGORA_ENDPOINTS`` (``{"auth": "dns:///auth:50051", ...}``, so the
clusters use the compose service names and Envoy's STRICT_DNS resolution), certificates
from ``AGORA_CERT_DIR``, the descriptor set from ``AGORA_DESCRIPTOR_SET`` (else the one the
installed wheel carries, ``pkg.contracts.descriptor_set()``), the public
listener on ``AGORA_EDGE_LISTEN`` (``0.0.0.0:8443``); admin and JWKS stay on loopback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

_PREFIXES = ("dns:///", "dns:", "ipv4:", "ipv6:")


def host_port(address: str) -> tuple[str, int]:
    """``auth:50051`` / ``[::1]:50051`` -> ``("auth", 50051)``."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"not host:port: {address!r}")
    return host.strip("[]"), int(port)


def parse_target(target: str) -> list[tuple[str, int]]:
    """A gRPC target (``dns:///auth:50051``, ``ipv4:10.0.0.1:50051,10.0.0.2:50051``,
    ``auth:50051``) -> its ``(host, port)`` addresses."""
    for prefix in _PREFIXES:
        if target.startswith(prefix):
            target = target[len(prefix) :]
            break
    return [host_port(part.strip()) for part in target.split(",") if part.strip()]


def endpoints_from_env(raw: str) -> dict[str, list[tuple[str, int]]]:
    """Parse ``AGORA_ENDPOINTS`` (JSON object: service name -> gRPC target)."""
    targets = json.loads(raw)
    if not isinstance(targets, dict) or not targets:
        raise ValueError("AGORA_ENDPOINTS must be a non-empty JSON object")
    return {str(name): parse_target(str(target)) for name, target in targets.items()}


def main(argv: list[str]) -> int:
    from pkg.contracts import descriptor_set
    from pkg.edge import write_envoy_config

    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTPUT.yaml", file=sys.stderr)
        return 2
    env = os.environ
    path = write_envoy_config(
        Path(argv[1]),
        descriptor_set=Path(env.get("AGORA_DESCRIPTOR_SET") or descriptor_set()),
        cert_dir=Path(env["AGORA_CERT_DIR"]),
        endpoints=endpoints_from_env(env["AGORA_ENDPOINTS"]),
        listen=host_port(env.get("AGORA_EDGE_LISTEN", "0.0.0.0:8443")),
        admin=host_port(env.get("AGORA_EDGE_ADMIN", "127.0.0.1:9901")),
        jwks_listen=host_port(env.get("AGORA_EDGE_JWKS_LISTEN", "127.0.0.1:9902")),
        jwt_issuer=env.get("AGORA_JWT_ISSUER", "https://auth.agora.local"),
        jwt_audience=env.get("AGORA_JWT_AUDIENCE", "agora"),
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
