"""The service table, ``services/registry.toml``, and the files derived from it.

Registration is data: a service is one ``[[service]]`` entry. ``load_registry`` reads the
table into ``ServiceSpec`` values, checked (names, unique port offsets 1..9, known keys,
booleans, ``{data}`` folders, ``depends_on`` without cycles; ``RegistryError`` otherwise).
``agora up`` reads it at start (``pkg.runtime.SERVICES``), so do the certificates, the
endpoints and the edge's clusters. ``derived_files`` renders what other tools need from it
(``docker-compose.yml``, the ``Dockerfile``, the Compose database initialisation);
``python -m pkg.registry write`` writes them and ``python -m pkg.registry check`` fails
when one is stale. See docs/adr/0029-registration-is-data.md.
"""

from pkg.registry._derive import (
    DEFAULT_PORT_BASE,
    DERIVED,
    GENERATED_BY,
    derived_files,
    kept_volumes,
    stale_files,
    workloads,
    write_derived,
)
from pkg.registry._load import (
    NAME,
    PORT_OFFSETS,
    REGISTRY,
    RegistryError,
    ServiceSpec,
    load_registry,
    parse_registry,
)

__all__ = [
    "DEFAULT_PORT_BASE",
    "DERIVED",
    "GENERATED_BY",
    "NAME",
    "PORT_OFFSETS",
    "REGISTRY",
    "RegistryError",
    "ServiceSpec",
    "derived_files",
    "kept_volumes",
    "load_registry",
    "parse_registry",
    "stale_files",
    "workloads",
    "write_derived",
]
