"""The catalog service's event handlers: its own stream's events -> ``Statistics``.

Built in the composition root into the ``pkg.events.MessageBus`` of the catalog
service's consumer group on its own stream.  With the gRPC mappers, the only code that
reads ``agora.catalog.v1``'s event messages.
"""

from __future__ import annotations

from agora.catalog.v1 import catalog_events_pb2
from pkg.events import Event, MessageBus, Rejected
from services.catalog.service import Statistics

_PREFIX = "products/"


def catalog_event_bus(statistics: Statistics) -> MessageBus:
    """The handler of ``ProductCreated`` (counts it once per event id); other events are
    acknowledged unread.  An event that names no product is ``Rejected``
    (dead-lettered)."""

    async def created(payload: catalog_events_pb2.ProductCreated, event: Event) -> None:
        if not payload.product.startswith(_PREFIX):
            raise Rejected(f"{payload.product!r} is not a product's resource name")
        await statistics.count_created(event_id=event.id)

    return MessageBus({catalog_events_pb2.ProductCreated: created})
