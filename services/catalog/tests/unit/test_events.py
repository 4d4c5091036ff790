"""The catalog service's consumer side with fakes: the bus counts each ``ProductCreated``
once per event id, rejects an event naming no product, and ignores other types."""

from __future__ import annotations

import uuid

import pytest

from agora.catalog.v1 import catalog_events_pb2
from pkg.clock import utcnow
from pkg.events import Event, Rejected, event_of, seal
from services.catalog.entrypoints.events import catalog_event_bus
from services.catalog.service import Statistics
from services.catalog.tests.fakes import FakeProductRepository


def _event(
    message: catalog_events_pb2.ProductCreated,
) -> tuple[catalog_events_pb2.ProductCreated, Event]:
    envelope = seal(message, source="catalog", subject=message.product, time=utcnow())
    return message, event_of(envelope, "1-0")


async def _deliver(
    statistics: Statistics, delivery: tuple[catalog_events_pb2.ProductCreated, Event]
) -> None:
    payload, event = delivery
    route = catalog_event_bus(statistics).route(event.type)
    assert route is not None
    await route.handler(payload, event)


async def test_a_created_event_is_counted_once_however_often_it_arrives() -> None:
    repository = FakeProductRepository()
    statistics = Statistics(repository, repository.units)
    event = _event(catalog_events_pb2.ProductCreated(product=f"products/{uuid.uuid4()}"))
    await _deliver(statistics, event)
    await _deliver(statistics, event)
    assert await statistics.created_count() == 1
    assert repository.unit.commits == 1


async def test_an_event_naming_no_product_is_rejected() -> None:
    repository = FakeProductRepository()
    with pytest.raises(Rejected):
        await _deliver(
            Statistics(repository, repository.units),
            _event(catalog_events_pb2.ProductCreated(product="users/x")),
        )
    assert repository.created == 0


def test_only_product_created_is_routed() -> None:
    repository = FakeProductRepository()
    bus = catalog_event_bus(Statistics(repository, repository.units))
    assert bus.types == {"agora.catalog.v1.ProductCreated"}
