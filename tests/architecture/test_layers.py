"""The layers of every service import what their place in the shape allows
(docs/architecture.md, "Inside a service")."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pkg.runtime import SERVICES as _SPECS

SERVICES = tuple(spec.name for spec in _SPECS)
FORBIDDEN = {
    "domain": ("grpc", "google.protobuf", "agora", "sqlalchemy", "redis", "pkg.server"),
    "service": ("grpc", "google.protobuf", "agora", "sqlalchemy", "redis", "pkg.server"),
}
REASONS = re.compile(r"agora\.\w+\.v\d+\.reasons")
"""The grpc-free enums ``make gen`` writes from the contracts' ``ErrorReason``: inner
layers raise with their members (``UserReason.USER_NOT_FOUND``), so these modules and the
namespace packages above them are allowed; every other ``agora`` module is not."""


def _reason_modules(loaded: set[str]) -> set[str]:
    """The generated reasons modules in ``loaded`` and their parent packages."""
    allowed: set[str] = set()
    for module in filter(REASONS.fullmatch, loaded):
        parts = module.split(".")
        allowed.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return allowed


def _imported(module: str) -> set[str]:
    probe = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_the_inner_layers_pull_in_no_transport_or_storage(service: str, layer: str) -> None:
    loaded = _imported(f"services.{service}.{layer}")
    allowed = _reason_modules(loaded)
    pulled = sorted(
        m
        for m in loaded - allowed
        if any(m == f or m.startswith(f + ".") for f in FORBIDDEN[layer])
    )
    assert pulled == [], f"services.{service}.{layer} pulls in {pulled[:5]}"


@pytest.mark.parametrize("service", SERVICES)
def test_adapters_map_their_peers_messages_themselves(service: str) -> None:
    """STYLE.md: a client adapter owns its mapping and never imports the entrypoints."""
    loaded = _imported(f"services.{service}.adapters")
    entrypoints = sorted(m for m in loaded if m.startswith(f"services.{service}.entrypoints"))
    assert entrypoints == [], f"services.{service}.adapters pulls in {entrypoints}"
