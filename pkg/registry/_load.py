"""Reading ``services/registry.toml`` into ``ServiceSpec`` values, checked field by field."""

from __future__ import annotations

import graphlib
import keyword
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGISTRY = Path(__file__).resolve().parents[2] / "services" / "registry.toml"
"""The repository's service table."""

NAME = re.compile(r"[a-z][a-z0-9]{1,29}")
"""A service name: 2 to 30 lower-case letters and digits, starting with a letter (it is a
Python package, a proto package, an environment prefix and a database name)."""

PORT_OFFSETS = range(1, 10)
"""Allowed ``port_offset`` values: worker ``i`` listens on ``base + offset + 10 * i``, so an
offset of 10 or more would collide with another service's second worker."""

_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_KEYS = frozenset({"name", "port_offset", "database", "redis", "env", "depends_on"})


class RegistryError(ValueError):
    """The service table cannot be read or breaks a rule; the message names the file, the
    entry and the rule."""


@dataclass(frozen=True)
class ServiceSpec:
    """One domain service of the mesh, as its ``[[service]]`` table says.

    ``port_offset`` (1..9): worker ``i`` (0-based) listens on
    ``port_base + port_offset + 10 * i``. ``database``: it owns the database
    ``agora_<name>`` and has ``python -m services.<name> migrate``. ``redis``: it gets
    ``AGORA_<NAME>_REDIS_URL``. ``env``: extra variables, where ``{data}`` stands for the
    absolute data directory; ``agora up`` creates the directory a ``*_DIR`` variable names
    and the parent of a ``*_FILE``, and Compose gives each such folder a volume.
    ``depends_on``: services that must be healthy before this one starts (Compose).
    """

    name: str
    port_offset: int
    database: bool = False
    redis: bool = True
    env: tuple[tuple[str, str], ...] = ()
    depends_on: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        """The module run with ``python -m`` (``services.<name>``)."""
        return f"services.{self.name}"

    @property
    def prefix(self) -> str:
        """The service's environment prefix (``AGORA_<NAME>_``)."""
        return f"AGORA_{self.name.upper()}_"

    def kept_folders(self, data: str) -> tuple[str, ...]:
        """The folders under ``data`` (the data directory) that hold what the service keeps:
        each ``*_DIR`` variable's value and each ``*_FILE`` variable's parent, in ``env``
        order without repeats; ``("/data/user",)`` for the user service with ``/data``."""
        folders: dict[str, None] = {}
        for key, value in self.env:
            path = value.replace("{data}", data)
            if key.endswith("_DIR"):
                folders[path] = None
            elif key.endswith("_FILE"):
                folders[path.rpartition("/")[0]] = None
        return tuple(folders)


def load_registry(path: Path = REGISTRY) -> tuple[ServiceSpec, ...]:
    """The services of the TOML file ``path`` in file order (see ``parse_registry``).

    Raises ``RegistryError`` when the file cannot be read or breaks a rule.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"cannot read the service table {path}: {exc}") from exc
    return parse_registry(text, path)


def parse_registry(text: str, source: Path | str = REGISTRY) -> tuple[ServiceSpec, ...]:
    """The ``ServiceSpec`` of every ``[[service]]`` table in the TOML ``text``, in order.

    Rules: the only top-level key is ``service``; each entry has a ``name`` (``NAME``, not a
    Python keyword) and an integer ``port_offset`` in 1..9, and may have ``database`` and
    ``redis`` (booleans), ``env`` (a table of upper-case names to strings, where the only
    placeholder is ``{data}`` and a ``*_FILE`` or ``*_DIR`` value lies under
    ``{data}/<name>/``) and ``depends_on`` (names of other services, without cycles); no
    other key. Names and port offsets are unique. ``source`` names the file in messages.
    Raises ``RegistryError`` for the first rule broken.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"cannot read the service table {source}: {exc}") from exc
    unknown = sorted(set(document) - {"service"})
    if unknown:
        raise RegistryError(
            f"{source}: unknown top-level key(s) {', '.join(unknown)}; "
            "the table holds only [[service]] entries"
        )
    entries = document.get("service", [])
    if not isinstance(entries, list):
        raise RegistryError(f"{source}: `service` must be an array of [[service]] tables")
    specs = []
    for index, entry in enumerate(entries, start=1):
        try:
            specs.append(_spec(entry))
        except (TypeError, ValueError) as exc:
            label = entry.get("name", "?") if isinstance(entry, dict) else "?"
            raise RegistryError(
                f"{source}: bad [[service]] entry #{index} ({label!r}): {exc}"
            ) from None
    for attribute in ("name", "port_offset"):
        values = [getattr(spec, attribute) for spec in specs]
        if len(values) != len(set(values)):
            raise RegistryError(f"{source}: two services share a {attribute}: {values}")
    _check_dependencies(specs, source)
    return tuple(specs)


def _spec(entry: Any) -> ServiceSpec:
    if not isinstance(entry, dict):
        raise TypeError("an entry is a table of keys")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})")
    missing = [key for key in ("name", "port_offset") if key not in entry]
    if missing:
        raise ValueError(f"missing {' and '.join(missing)}")
    name = entry["name"]
    if not isinstance(name, str) or not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ValueError(
            f"name {name!r} is not 2 to 30 lower-case letters and digits "
            "starting with a letter (and not a Python keyword)"
        )
    offset = entry["port_offset"]
    if isinstance(offset, bool) or not isinstance(offset, int) or offset not in PORT_OFFSETS:
        raise ValueError(f"port_offset {offset!r} is not an integer in 1..9")
    flags = {
        key: entry.get(key, default) for key, default in (("database", False), ("redis", True))
    }
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"{key} = {value!r} is not a boolean (true or false)")
    return ServiceSpec(
        name=name,
        port_offset=offset,
        database=flags["database"],
        redis=flags["redis"],
        env=_env(name, entry.get("env", {})),
        depends_on=_names(entry.get("depends_on", [])),
    )


def _env(name: str, table: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise ValueError('env is a table of NAME = "value" pairs')
    env = []
    for key, value in table.items():
        if not _ENV_NAME.fullmatch(key):
            raise ValueError(f"env name {key!r} is not upper-case letters, digits and _")
        if not isinstance(value, str):
            raise ValueError(f"env {key} = {value!r} is not a string")
        others = [p for p in _PLACEHOLDER.findall(value) if p != "{data}"]
        if others:
            raise ValueError(f"env {key}: unknown placeholder {others[0]} (only {{data}})")
        if key.endswith(("_FILE", "_DIR")) and not value.startswith(f"{{data}}/{name}/"):
            raise ValueError(
                f"env {key} = {value!r}: what a service keeps lies under "
                f"{{data}}/{name}/ (its own volume under Compose)"
            )
        env.append((key, value))
    return tuple(env)


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("depends_on is a list of service names")
    if len(value) != len(set(value)):
        raise ValueError(f"depends_on {value} names a service twice")
    return tuple(value)


def _check_dependencies(specs: list[ServiceSpec], source: Path | str) -> None:
    known = {spec.name for spec in specs}
    graph = {}
    for spec in specs:
        for other in spec.depends_on:
            if other == spec.name or other not in known:
                raise RegistryError(
                    f"{source}: {spec.name} depends_on {other!r}, which is "
                    f"{'itself' if other == spec.name else 'not a service'}"
                )
        graph[spec.name] = spec.depends_on
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        raise RegistryError(
            f"{source}: depends_on forms a cycle: {' -> '.join(exc.args[1])}"
        ) from None
