"""Registering a generated service: its ``[[service]]`` entry, and the files derived from
the table (``pkg.registry``) with the entry in it. Nothing here writes."""

from __future__ import annotations

from pathlib import Path

from pkg.registry import RegistryError, derived_files, parse_registry
from pkg.scaffold._names import ScaffoldError

REGISTRY = "services/registry.toml"
"""The service table, relative to the repository."""


def registry_entry(name: str, offset: int) -> str:
    """The ``[[service]]`` table of ``name`` for ``services/registry.toml``: its own
    database, Redis (its event stream: outbox relay and consumer), started after auth (its
    JWKS) and user (Create asks it about the caller's account) are healthy, and auth's last
    good JWKS kept in ``{data}/<name>/jwks.json`` (``agora up`` creates the folder of every
    ``*_FILE`` variable; Compose mounts a volume there)."""
    return (
        f'\n[[service]]\nname = "{name}"\nport_offset = {offset}\n'
        "database = true\nredis = true\n"
        f'env = {{ AGORA_{name.upper()}_JWKS_CACHE_FILE = "{{data}}/{name}/jwks.json" }}\n'
        'depends_on = ["auth", "user"]\n'
    )


def registration(root: Path, table: str, name: str, offset: int) -> dict[str, bytes]:
    """The files of the repository at ``root`` that registering ``name`` (port offset
    ``offset``) changes, path -> new content: the table text ``table`` with the entry
    appended (comments and layout kept), and each file ``pkg.registry.derived_files``
    renders from that table whose content differs from the file's now.

    Raises ``ScaffoldError`` when the table with the entry breaks a rule of
    ``pkg.registry.parse_registry``.
    """
    text = table if table.endswith("\n") or not table else table + "\n"
    text += registry_entry(name, offset)
    try:
        files = {REGISTRY: text, **derived_files(parse_registry(text, root / REGISTRY))}
    except RegistryError as exc:
        raise ScaffoldError(f"the table with {name} in it is not valid: {exc}") from exc
    changed = {}
    for path, content in files.items():
        encoded = content.encode("utf-8")
        current = root / path
        if not current.is_file() or current.read_bytes() != encoded:
            changed[path] = encoded
    return changed
