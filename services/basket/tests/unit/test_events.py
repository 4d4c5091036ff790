"""The basket service's consumer side with fakes: the bus counts each ``BasketCreated``
once per event id, rejects an event naming no basket, and ignores other types."""

from __future__ import annotations

import uuid

import pytest

from agora.basket.v1 import basket_events_pb2
from pkg.clock import utcnow
from pkg.events import Event, Rejected, event_of, seal
from services.basket.entrypoints.events import basket_event_bus
from services.basket.service import Statistics
from services.basket.tests.fakes import FakeBasketRepository


def _event(
    message: basket_events_pb2.BasketCreated,
) -> tuple[basket_events_pb2.BasketCreated, Event]:
    envelope = seal(message, source="basket", subject=message.basket, time=utcnow())
    return message, event_of(envelope, "1-0")


async def _deliver(
    statistics: Statistics, delivery: tuple[basket_events_pb2.BasketCreated, Event]
) -> None:
    payload, event = delivery
    route = basket_event_bus(statistics).route(event.type)
    assert route is not None
    await route.handler(payload, event)


async def test_a_created_event_is_counted_once_however_often_it_arrives() -> None:
    repository = FakeBasketRepository()
    statistics = Statistics(repository, repository.units)
    event = _event(basket_events_pb2.BasketCreated(basket=f"baskets/{uuid.uuid4()}"))
    await _deliver(statistics, event)
    await _deliver(statistics, event)
    assert await statistics.created_count() == 1
    assert repository.unit.commits == 1


async def test_an_event_naming_no_basket_is_rejected() -> None:
    repository = FakeBasketRepository()
    with pytest.raises(Rejected):
        await _deliver(
            Statistics(repository, repository.units),
            _event(basket_events_pb2.BasketCreated(basket="users/x")),
        )
    assert repository.created == 0


def test_only_basket_created_is_routed() -> None:
    repository = FakeBasketRepository()
    bus = basket_event_bus(Statistics(repository, repository.units))
    assert bus.types == {"agora.basket.v1.BasketCreated"}
