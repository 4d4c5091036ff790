"""``agora new-service NAME``: a new domain service rendered from the one service shape.

``new_service(root, name)`` renders ``pkg/scaffold/template`` with Jinja2 into the
repository at ``root`` (contract, service package, end-to-end test) and registers the
service with ``agora up`` (``services/registry.toml``), Docker Compose (the edge waits
for it there), the image's data folders (Dockerfile) and the database initialisation.
The edge's configuration needs nothing: its routes come from the contracts and its
upstreams from the mesh's endpoints (``python -m pkg.edge`` defaults to the registry).
See docs/adr/0017-service-template.md.
"""

from pkg.scaffold._generate import GeneratedService, new_service
from pkg.scaffold._names import ServiceNameError, check_name, plural

__all__ = ["GeneratedService", "ServiceNameError", "check_name", "new_service", "plural"]
