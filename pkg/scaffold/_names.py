"""Which names a new service may have, and the spellings the template uses."""

from __future__ import annotations

import keyword
from pathlib import Path

from pkg.registry import NAME

RESERVED = frozenset(
    {
        "agora",
        "api",
        "buf",
        "cli",
        "certs",
        "docs",
        "edge",
        "errors",
        "gen",
        "google",
        "infra",
        "migrate",
        "pkg",
        "policy",
        "postgres",
        "redis",
        "services",
        "tests",
        "tools",
        "v1",
    }
)
"""Names a service may not take: top-level folders, proto packages, mesh workloads."""


class ScaffoldError(Exception):
    """``agora new-service`` cannot go on, and has written nothing; the message says why."""


class ServiceNameError(ScaffoldError, ValueError):
    """The name cannot be a new service; the message says why and what would do."""


def plural(name: str) -> str:
    """The English plural of a lower-case noun for resource names (AIP-122 collection ids):
    ``widget`` -> ``widgets``, ``category`` -> ``categories``, ``box`` -> ``boxes``."""
    if name.endswith("y") and name[-2:-1] not in tuple("aeiou"):
        return name[:-1] + "ies"
    if name.endswith(("s", "x", "z", "ch", "sh")):
        return name + "es"
    return name + "s"


def check_name(root: Path, name: str, known: frozenset[str]) -> None:
    """Raise ``ServiceNameError`` unless ``name`` can be a new service in ``root``.

    A name is 2 to 30 lower-case letters and digits starting with a letter (it becomes a
    Python package, a proto package ``agora.<name>.v1``, an environment prefix and a
    database name), not a Python keyword, not in ``RESERVED``, not one of the ``known``
    services, and neither ``services/<name>`` nor ``api/agora/<name>`` exists yet.
    """
    if not NAME.fullmatch(name):
        raise ServiceNameError(
            f"{name!r} is not a service name: use 2 to 30 lower-case letters and digits, "
            "starting with a letter (e.g. catalog, payment)"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise ServiceNameError(f"{name!r} is reserved; choose another name")
    if name in known:
        raise ServiceNameError(f"service {name!r} exists already (services/registry.toml)")
    for taken in (root / "services" / name, root / "api" / "agora" / name):
        if taken.exists():
            raise ServiceNameError(f"{taken} exists already; refusing to overwrite it")
