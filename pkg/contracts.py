"""Load the generated contract modules and list the services they declare.

Importing every ``agora.<domain>.v1.*_pb2`` module registers its descriptors in the default
pool, which lets any service answer server reflection for the whole API (so ``grpcurl``
can ``list`` and ``describe`` through the edge) and lets the policy be read for any RPC.
``descriptor_set()`` finds the contracts' descriptor set in a source tree or an installed wheel.
"""

from __future__ import annotations

import importlib
import importlib.resources
from pathlib import Path

import agora

DESCRIPTOR_SET_NAME = "agora.binpb"
_SOURCE_TREE_DESCRIPTOR_SET = Path(__file__).resolve().parents[1] / "gen" / DESCRIPTOR_SET_NAME


def descriptor_set() -> Path:
    """The contracts' descriptor set: a binary ``google.protobuf.FileDescriptorSet``.

    ``buf build`` writes it to ``gen/agora.binpb`` (``make gen``); the wheel carries it as
    package data ``agora/agora.binpb`` (pyproject.toml ``force-include``), found with
    ``importlib.resources``. A source tree's file comes first: an editable install also holds
    a copy made when it was installed, which ``make gen`` does not refresh. Raises
    ``FileNotFoundError`` when there is neither.
    """
    if _SOURCE_TREE_DESCRIPTOR_SET.is_file():
        return _SOURCE_TREE_DESCRIPTOR_SET
    packaged = importlib.resources.files(agora).joinpath(DESCRIPTOR_SET_NAME)
    if isinstance(packaged, Path) and packaged.is_file():
        return packaged
    raise FileNotFoundError(
        f"no descriptor set: neither {_SOURCE_TREE_DESCRIPTOR_SET} (run make gen) nor "
        f"{DESCRIPTOR_SET_NAME} in the installed agora package"
    )


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
