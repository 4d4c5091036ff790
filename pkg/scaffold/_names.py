"""Which names a new service may have, and the spellings the template uses."""

from __future__ import annotations

import keyword
from dataclasses import dataclass
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


class ResourceNameError(ScaffoldError, ValueError):
    """The resource or its plural cannot be the new service's; the message says why and
    what would do."""


@dataclass(frozen=True)
class Resource:
    """The resource a generated service serves: ``singular`` (message ``Product``, field
    ``product``, ``products/{product}``) and ``plural``, its AIP-122 collection id
    (``/v1/products``, table ``products``)."""

    singular: str
    plural: str


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


RESERVED_RESOURCES = frozenset(
    # the template's single-word classes, lower-cased (a resource's class would be one)
    """
    aborted account accounts aggregate any base callable channel client clock collection
    column consumer decision event false field identifier index integer iterator mapped mesh
    message migrations none path probe protocol registration rejected relay sequence statistics
    text timestamp true unpack uuid
    """
    # locals and parameters in the scopes where the resource's names are bound
    """
    admin after again app auth body bus cache caught changed config conftest context count
    created credentials current customer display domain engine entrypoints errors etag
    events fake fakes fields first found got held http id info informational instant jwks
    key keys limit listed mappers mask metadata model name named ordered orm other page
    payload ports principal queries query race redis relay repository request rest route
    row rows schema scope seen server session sessions settings size stack stale statement
    stored stub subject target time token unit units uow updated user users verifier version
    """
    # modules and built-ins the template uses
    """
    alembic argparse asyncio bool bytes classmethod collections contextlib dataclasses
    datetime dict filter float format frozenset grpc hash httpx int isinstance iter json
    len list logging map max min next object op open pathlib print property psycopg
    pydantic pytest range repr reversed sa secrets set socket sorted sql sqlalchemy str
    sum super sys timedelta tuple type typing vars zip
    """.split()
)
"""Names a resource (singular or plural) may not take besides ``RESERVED`` and Python's
keywords: the template's own identifiers that a resource's spelling would shadow or
collide with (``key``, ``session``, ``request`` -> ``request_id``, ``statistics``,
``account`` -> ``Accounts``, ``user`` -> ``users/...``), and built-ins it uses."""

SERVICE_SUFFIXES = (
    "Service",
    "InternalService",
    "Servicer",
    "InternalServicer",
    "Settings",
    "Reason",
    "Queries",
    "Repositories",
    "UnitOfWork",
)
"""What the template appends to the service's name for its own classes
(``<Service>Service``, ``<Service>Settings``, ...); a resource spelled so is refused."""


def check_resource(service: str, singular: str, plural_: str | None = None) -> Resource:
    """The resource of the new service ``service``: ``singular``, and ``plural_`` or, when
    that is ``None``, ``plural(singular)``; ``ResourceNameError`` when either cannot be.

    Both are 2 to 30 lower-case letters and digits starting with a letter, as a service
    name (``singular`` becomes a Python identifier, a proto message and field; ``plural``
    a Python module, a table and the AIP-122 collection id, which must start with a
    lower-case letter and hold only letters and digits; multi-word, camel-case collection
    ids are not supported). Neither is a Python keyword, in ``RESERVED`` or
    ``RESERVED_RESOURCES``, or spelled as one of the service's own classes
    (``<service>`` + ``SERVICE_SUFFIXES``, e.g. ``catalogservice``); and the plural differs
    from the singular (AIP-122 ``sheep`` would make the use cases' class the resource's).
    """
    checked = []
    for role, word, example in (("resource", singular, "product"), ("plural", plural_, "products")):
        if word is None:
            word = plural(singular)
        if not NAME.fullmatch(word):
            raise ResourceNameError(
                f"{word!r} is not a {role} name: use 2 to 30 lower-case letters and digits, "
                f"starting with a letter (e.g. {example})"
            )
        if keyword.iskeyword(word) or word in RESERVED or word in RESERVED_RESOURCES:
            raise ResourceNameError(
                f"{role} {word!r} is reserved (the template uses it); choose another name"
            )
        clash = [s for s in SERVICE_SUFFIXES if word == (service + s).lower()]
        if clash:
            raise ResourceNameError(
                f"{role} {word!r} is spelled as service {service!r}'s own class "
                f"{service.capitalize()}{clash[0]}; choose another name"
            )
        checked.append(word)
    if checked[0] == checked[1]:
        raise ResourceNameError(
            f"plural {checked[1]!r} is the singular: give a distinct --plural (AIP-122)"
        )
    return Resource(*checked)
