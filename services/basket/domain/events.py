"""The basket service's domain events: past-tense facts a ``Basket`` records as it changes.

Plain frozen dataclasses (no protobuf): the entrypoint's mapper
(``services.basket.entrypoints.grpc.mappers.event_to_message``) turns each into its
message of ``agora.basket.v1`` (basket_events.proto) when the unit of work commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class BasketCreated:
    """A basket was created with ``display_name``."""

    basket_id: UUID
    display_name: str


@dataclass(frozen=True)
class BasketUpdated:
    """The basket's ``changed_fields`` (AIP-134 paths) were updated; ``display_name`` is
    the one now."""

    basket_id: UUID
    display_name: str
    changed_fields: tuple[str, ...]


BasketEvent = BasketCreated | BasketUpdated
"""Every event a ``Basket`` records."""
