"""Load the generated contract modules and list the services they declare.

Importing every ``agora.<domain>.v1.*_pb2`` module registers its descriptors in the default
pool, which lets any service answer server reflection for the whole API (so ``grpcurl``
can ``list`` and ``describe`` through the edge) and lets the policy be read for any RPC.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import agora


def import_contracts() -> list[str]:
    """Import every generated ``agora`` message module; return service full names, sorted.

    Raises ``ImportError`` when a generated module is broken (run ``make gen``).
    """
    services: list[str] = []
    for root in map(Path, agora.__path__):
        for path in sorted(root.rglob("*_pb2.py")):
            dotted = ".".join(path.relative_to(root).with_suffix("").parts)
            module = importlib.import_module(f"agora.{dotted}")
            services.extend(s.full_name for s in module.DESCRIPTOR.services_by_name.values())
    return sorted(services)

