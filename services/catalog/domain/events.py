"""The catalog service's domain events: past-tense facts a ``Product`` records as it changes.

Plain frozen dataclasses (no protobuf): the entrypoint's mapper
(``services.catalog.entrypoints.grpc.mappers.event_to_message``) turns each into its
message of ``agora.catalog.v1`` (catalog_events.proto) when the unit of work commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from pkg.money import Money


class ProductState(StrEnum):
    """The lifecycle of a product (AIP-216); the value is what the ``state`` column holds."""

    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class ProductCreated:
    """An admin created a product, in ``state`` (DRAFT), at unit ``price``."""

    product_id: UUID
    title: str
    price: Money
    state: ProductState


@dataclass(frozen=True)
class ProductPriceChanged:
    """An admin changed the product's unit price from ``previous_price`` to ``price``."""

    product_id: UUID
    price: Money
    previous_price: Money


@dataclass(frozen=True)
class ProductArchived:
    """An admin archived the product: it can no longer be seen by customers or bought."""

    product_id: UUID


ProductEvent = ProductCreated | ProductPriceChanged | ProductArchived
"""Every event a ``Product`` records."""
