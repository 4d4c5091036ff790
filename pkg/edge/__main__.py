"""Write the edge's Envoy bootstrap: ``python -m pkg.edge --cert-dir DIR [--out PATH]``.

Endpoints default to each service of ``services/registry.toml`` on its first worker's port
of ``agora up`` (docs/architecture.md: 50050 + its port offset); repeat ``--endpoint
name=host:port`` to replace them (several addresses of one service are balanced round robin).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from ._bootstrap import write_envoy_config
from ._contracts import EdgeConfigError


def default_endpoints() -> list[str]:
    """``name=127.0.0.1:port`` of every service of the registry (``pkg.runtime.SERVICES``),
    at ``agora up``'s default port base: ``["auth=127.0.0.1:50051", ...]``."""
    from pkg.runtime import SERVICES, MeshPorts

    ports = MeshPorts.derive(workers={spec.name: 1 for spec in SERVICES})
    return [f"{name}=127.0.0.1:{port}" for name, port in ports.services.items()]


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def _endpoints(specs: list[str]) -> dict[str, list[tuple[str, int]]]:
    endpoints: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for spec in specs:
        name, _, address = spec.partition("=")
        endpoints[name].append(_address(address))
    return dict(endpoints)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, write the YAML, print its path; exit status 2 on a contract error."""
    parser = argparse.ArgumentParser(prog="python -m pkg.edge", description=__doc__)
    parser.add_argument("--descriptor-set", type=Path, default=Path("gen/agora.binpb"))
    parser.add_argument("--cert-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("envoy.yaml"))
    parser.add_argument("--endpoint", action="append", default=[], metavar="NAME=HOST:PORT")
    parser.add_argument("--listen", type=_address, default=("127.0.0.1", 8443))
    parser.add_argument("--admin", type=_address, default=("127.0.0.1", 9901))
    parser.add_argument("--jwks-listen", type=_address, default=("127.0.0.1", 9902))
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an origin (scheme://host[:port]) allowed by CORS; repeatable",
    )
    args = parser.parse_args(argv)
    try:
        path = write_envoy_config(
            args.out,
            descriptor_set=args.descriptor_set,
            cert_dir=args.cert_dir.resolve(),
            endpoints=_endpoints(args.endpoint or default_endpoints()),
            listen=args.listen,
            admin=args.admin,
            jwks_listen=args.jwks_listen,
            cors_origins=args.cors_origin,
        )
    except EdgeConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
