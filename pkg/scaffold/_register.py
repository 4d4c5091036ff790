"""Registering a generated service: the files outside ``services/<name>/`` that name it.

The service table (``services/registry.toml``), Docker Compose (its endpoint, blocks,
data volume, its own certificate volume, and the edge waiting for it), the image's writable
mount points (Dockerfile) and the Compose database initialisation.  Text is appended or
inserted, never re-dumped, so the files keep their comments and layout.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pkg.runtime import DEFAULT_PORT_BASE
from pkg.scaffold._names import ServiceNameError

_ENDPOINTS = re.compile(r"^(  AGORA_ENDPOINTS: ')(\{.*\})(')$", re.MULTILINE)
_EDGE_DEPENDS_ON = re.compile(r"^  edge:\n(?:    .*\n|\s*\n)*?    depends_on:\n(?:      .*\n)*",
                              re.MULTILINE)
_DATA_MOUNT_POINTS = re.compile(r"^( && install -d -o agora -g agora -m 0700 [^\\\n]*?)\s*$",
                                re.MULTILINE)
_IDENTITY_VOLUMES = re.compile(r"^x-identity-volumes: &identity-volumes\n(?:  - .*\n)+",
                               re.MULTILINE)


def registry_entry(name: str, offset: int) -> str:
    """The ``[[service]]`` table of ``name`` for ``services/registry.toml``: its own
    database, Redis (its event stream: outbox relay and consumer), and auth's last good
    JWKS kept in ``{data}/<name>/jwks.json`` (``agora up`` creates the folder of every
    ``*_FILE`` variable)."""
    return (f'\n[[service]]\nname = "{name}"\nport_offset = {offset}\n'
            "database = true\nredis = true\n"
            f'env = {{ AGORA_{name.upper()}_JWKS_CACHE_FILE = "{{data}}/{name}/jwks.json" }}\n')


def register(root: Path, name: str, offset: int, *, compose_env: str,
             compose_services: str) -> list[str]:
    """Register ``name`` (port offset ``offset``) in the repository at ``root``.

    Appends its table to ``services/registry.toml``; when they exist, adds to
    ``docker-compose.yml`` the rendered ``compose_env`` (the ``x-<name>-env`` anchor) and
    ``compose_services`` (its containers), its endpoint, its ``<name>-data`` volume, its
    ``certs-<name>`` volume (written by the certs jobs at ``/data/certs/<name>``, mounted by
    the service alone) and an edge ``depends_on``; adds ``/data/<name>`` and
    ``/data/certs/<name>`` to the Dockerfile's agora-owned mount points;
    appends ``CREATE DATABASE agora_<name>`` to the Compose database initialisation.
    Returns the changed paths, relative to ``root``.  Raises ``ServiceNameError`` when
    docker-compose.yml or the Dockerfile lacks a part to extend.
    """
    with (root / "services" / "registry.toml").open("a", encoding="utf-8") as out:
        out.write(registry_entry(name, offset))
    changed = ["services/registry.toml"]
    compose = root / "docker-compose.yml"
    if compose.is_file():
        text = compose_file(compose.read_text(encoding="utf-8"), name, offset,
                            env=compose_env, services=compose_services)
        compose.write_text(text, encoding="utf-8")
        changed.append("docker-compose.yml")
    dockerfile = root / "Dockerfile"
    if dockerfile.is_file():
        dockerfile.write_text(_mount_point(dockerfile.read_text(encoding="utf-8"), name),
                              encoding="utf-8")
        changed.append("Dockerfile")
    initdb = root / "deploy" / "compose" / "postgres-initdb" / "10-databases.sql"
    if initdb.is_file():
        with initdb.open("a", encoding="utf-8") as out:
            out.write(f"CREATE DATABASE agora_{name};\n")
        changed.append(initdb.relative_to(root).as_posix())
    return changed


def compose_file(text: str, name: str, offset: int, *, env: str, services: str) -> str:
    """``docker-compose.yml`` text with the service's endpoint, environment anchor ``env``
    (before ``services:``), containers ``services`` (before ``volumes:``), data volume, its
    certificate volume (declared, and in the certs jobs' ``x-identity-volumes`` list) and a
    ``service_healthy`` dependency of the edge.  Raises ``ServiceNameError`` when a part to
    extend is missing."""
    match = _ENDPOINTS.search(text)
    if match is None:
        raise ServiceNameError("docker-compose.yml has no AGORA_ENDPOINTS line to extend")
    endpoints = json.loads(match.group(2))
    endpoints[name] = f"dns:///{name}:{DEFAULT_PORT_BASE + offset}"
    text = (text[:match.start()] + match.group(1) + json.dumps(endpoints) + match.group(3)
            + text[match.end():])
    if "\nservices:\n" not in text or "\nvolumes:\n" not in text:
        raise ServiceNameError("docker-compose.yml lacks its top-level services: or volumes:")
    identities = _IDENTITY_VOLUMES.search(text)
    if identities is None:
        raise ServiceNameError("docker-compose.yml has no x-identity-volumes list to extend")
    text = (text[:identities.end()] + f"  - certs-{name}:/data/certs/{name}\n"
            + text[identities.end():])
    edge = _EDGE_DEPENDS_ON.search(text)
    if edge is None:
        raise ServiceNameError("docker-compose.yml has no edge service with depends_on:")
    text = (text[:edge.end()] + f"      {name}:\n        condition: service_healthy\n"
            + text[edge.end():])
    text = text.replace("\nservices:\n", f"\n{env}\nservices:\n", 1)
    head, _, tail = text.rpartition("\nvolumes:\n")
    return (f"{head.rstrip()}\n\n{services}\nvolumes:\n{tail.rstrip()}\n  {name}-data:\n"
            f"  certs-{name}:\n")


def _mount_point(text: str, name: str) -> str:
    """The Dockerfile with ``/data/<name>`` and ``/data/certs/<name>`` among the folders
    created for the agora user (an empty named volume takes its mount point's owner).
    Raises ``ServiceNameError`` when the ``install -d -o agora ... -m 0700`` line is
    missing."""
    match = _DATA_MOUNT_POINTS.search(text)
    if match is None:
        raise ServiceNameError("the Dockerfile has no `install -d -o agora -g agora -m 0700` "
                               "line to add /data/<name> to")
    return text[:match.end(1)] + f" /data/{name} /data/certs/{name}" + text[match.end(1):]
