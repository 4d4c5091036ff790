"""``agora new-service NAME``: a new domain service rendered from the one service shape.

``new_service(root, name, resource=..., plural=...)`` renders ``pkg/scaffold/template``
with Jinja2 into the repository at ``root`` (contract, service package, end-to-end test)
for the service ``name`` and its one resource (by default also ``name``), formats the
Python with ruff, appends the service's entry to ``services/registry.toml`` and regenerates the
files derived from the table (``pkg.registry``: Docker Compose, the Dockerfile's data
folders, the database initialisation). It checks everything first and writes all files or
none. The edge's configuration needs nothing: its routes come from the contracts and its
upstreams from the registry (``agora up``, ``python -m pkg.edge``) or Compose's
``AGORA_ENDPOINTS``. See docs/adr/0017-service-template.md and
docs/adr/0029-registration-is-data.md.
"""

from pkg.scaffold._generate import GeneratedService, new_service
from pkg.scaffold._names import (
    RESERVED_RESOURCES,
    Resource,
    ResourceNameError,
    ScaffoldError,
    ServiceNameError,
    check_name,
    check_resource,
    plural,
)

__all__ = [
    "RESERVED_RESOURCES",
    "GeneratedService",
    "Resource",
    "ResourceNameError",
    "ScaffoldError",
    "ServiceNameError",
    "check_name",
    "check_resource",
    "new_service",
    "plural",
]
