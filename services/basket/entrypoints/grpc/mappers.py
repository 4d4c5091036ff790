"""Proto <-> domain for the basket service: resource names, baskets and events.

``event_to_message`` is the unit of work's ``pkg.uow.EventMapper`` (given to it by the
composition root): domain events -> ``agora.basket.v1`` (basket_events.proto).

Request ids and field renaming are ``pkg.fields``, timestamps ``pkg.timestamps``.

With the servicer, the only module that knows ``agora.basket.v1``'s messages.  Field paths in
errors are the request's (``name``, ``basket.display_name``), as AIP-193 asks.
"""

from __future__ import annotations

import contextlib
from uuid import UUID

from google.protobuf.message import Message

from agora.basket.v1 import basket_events_pb2, basket_pb2
from agora.basket.v1.reasons import BasketReason
from pkg.timestamps import timestamp_to_proto
from services.basket.domain import Basket, BasketCreated, BasketUpdated, InvalidField

_PREFIX = "baskets/"


def basket_name(basket_id: UUID) -> str:
    """The resource name ``baskets/{uuid}``."""
    return f"{_PREFIX}{basket_id}"


def parse_basket_name(name: str, *, field: str = "name") -> UUID:
    """The id ``name`` denotes; ``InvalidField`` (at ``field``) unless ``baskets/{uuid}``."""
    if name.startswith(_PREFIX):
        with contextlib.suppress(ValueError):
            return UUID(name.removeprefix(_PREFIX))
    raise InvalidField(field, "must be baskets/{uuid}", reason=BasketReason.NAME_INVALID)


def basket_to_proto(basket: Basket) -> basket_pb2.Basket:
    """The ``agora.basket.v1.Basket`` of ``basket``."""
    return basket_pb2.Basket(
        name=basket_name(basket.id),
        display_name=basket.display_name,
        create_time=timestamp_to_proto(basket.create_time),
        update_time=timestamp_to_proto(basket.update_time),
        etag=basket.etag,
    )


def event_to_message(event: object) -> tuple[str, Message]:
    """``(subject, message)`` of a domain event for the outbox (``pkg.uow.EventMapper``):
    the basket's resource name and its ``agora.basket.v1`` event message.  Raises
    ``TypeError`` for anything but the basket service's events."""
    match event:
        case BasketCreated(basket_id=basket_id, display_name=display_name):
            message: Message = basket_events_pb2.BasketCreated(
                basket=basket_name(basket_id), display_name=display_name
            )
        case BasketUpdated(basket_id=basket_id, display_name=display_name, changed_fields=changed):
            message = basket_events_pb2.BasketUpdated(
                basket=basket_name(basket_id),
                display_name=display_name,
                changed_fields=list(changed),
            )
        case _:
            raise TypeError(f"not a basket service event: {type(event).__name__}")
    return basket_name(basket_id), message
