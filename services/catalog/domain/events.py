"""The catalog service's domain events: past-tense facts a ``Product`` records as it changes.

Plain frozen dataclasses (no protobuf): the entrypoint's mapper
(``services.catalog.entrypoints.grpc.mappers.event_to_message``) turns each into its
message of ``agora.catalog.v1`` (catalog_events.proto) when the unit of work commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class ProductCreated:
    """A product was created with ``display_name``."""

    product_id: UUID
    display_name: str


@dataclass(frozen=True)
class ProductUpdated:
    """The product's ``changed_fields`` (AIP-134 paths) were updated; ``display_name`` is
    the one now."""

    product_id: UUID
    display_name: str
    changed_fields: tuple[str, ...]


ProductEvent = ProductCreated | ProductUpdated
"""Every event a ``Product`` records."""
