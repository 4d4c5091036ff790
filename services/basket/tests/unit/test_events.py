"""The catalog's events reach ``CatalogChanges`` as domain values; an event naming no
product or a price in another currency is ``Rejected`` (dead-lettered), not retried."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.type import money_pb2

from agora.catalog.v1 import catalog_events_pb2
from pkg.events import Rejected
from services.basket.entrypoints.events import catalog_event_bus
from services.basket.tests.factories import eur


class RecordingChanges:
    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    async def price_changed(self, product_id: uuid.UUID, price: Any, *, event_id: str) -> None:
        self.seen.append(("price", product_id, price, event_id))

    async def archived(self, product_id: uuid.UUID, *, event_id: str) -> None:
        self.seen.append(("archived", product_id, event_id))


class _Event:
    id = "event-1"


async def _deliver(changes: RecordingChanges, payload: Any) -> None:
    bus = catalog_event_bus(changes, currency="EUR")  # type: ignore[arg-type]
    route = bus.route(payload.DESCRIPTOR.full_name)
    assert route is not None
    await route.handler(payload, _Event())  # type: ignore[arg-type]


async def test_price_changes_and_archives_reach_the_use_case() -> None:
    changes, product = RecordingChanges(), uuid.uuid4()
    price = money_pb2.Money(currency_code="EUR", units=9, nanos=990_000_000)
    await _deliver(
        changes, catalog_events_pb2.ProductPriceChanged(product=f"products/{product}", price=price)
    )
    await _deliver(changes, catalog_events_pb2.ProductArchived(product=f"products/{product}"))
    assert changes.seen == [
        ("price", product, eur(999), "event-1"),
        ("archived", product, "event-1"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        catalog_events_pb2.ProductArchived(product="baskets/1"),
        catalog_events_pb2.ProductPriceChanged(
            product=f"products/{uuid.uuid4()}", price=money_pb2.Money(currency_code="USD", units=1)
        ),
    ],
)
async def test_unusable_events_are_rejected(payload: Any) -> None:
    with pytest.raises(Rejected):
        await _deliver(RecordingChanges(), payload)
