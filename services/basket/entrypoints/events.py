"""The basket service's event handlers: its own stream's events -> ``Statistics``.

Built in the composition root into the ``pkg.events.MessageBus`` of the basket
service's consumer group on its own stream.  With the gRPC mappers, the only code that
reads ``agora.basket.v1``'s event messages.
"""

from __future__ import annotations

from agora.basket.v1 import basket_events_pb2
from pkg.events import Event, MessageBus, Rejected
from services.basket.service import Statistics

_PREFIX = "baskets/"


def basket_event_bus(statistics: Statistics) -> MessageBus:
    """The handler of ``BasketCreated`` (counts it once per event id); other events are
    acknowledged unread.  An event that names no basket is ``Rejected``
    (dead-lettered)."""

    async def created(payload: basket_events_pb2.BasketCreated, event: Event) -> None:
        if not payload.basket.startswith(_PREFIX):
            raise Rejected(f"{payload.basket!r} is not a basket's resource name")
        await statistics.count_created(event_id=event.id)

    return MessageBus({basket_events_pb2.BasketCreated: created})
