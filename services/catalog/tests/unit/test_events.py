"""The catalog service's events as the outbox gets them: each domain event maps to its
``agora.catalog.v1`` message with the product's name as subject and Money in minor units."""

from __future__ import annotations

import uuid

import pytest

from agora.catalog.v1 import catalog_events_pb2, catalog_pb2
from pkg.money import Money
from services.catalog.domain import (
    ProductArchived,
    ProductCreated,
    ProductPriceChanged,
    ProductState,
)
from services.catalog.entrypoints.grpc.mappers import event_to_message

ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
NAME = f"products/{ID}"


def test_product_created_carries_title_price_and_state() -> None:
    subject, message = event_to_message(
        ProductCreated(ID, "Hose", Money("EUR", 1250), ProductState.DRAFT)
    )
    assert subject == NAME
    assert isinstance(message, catalog_events_pb2.ProductCreated)
    assert (message.product, message.title) == (NAME, "Hose")
    assert (message.price.currency_code, message.price.units, message.price.nanos) == (
        "EUR",
        12,
        500_000_000,
    )
    assert message.state == catalog_pb2.Product.STATE_DRAFT


def test_price_changed_carries_both_prices() -> None:
    _, message = event_to_message(ProductPriceChanged(ID, Money("EUR", 999), Money("EUR", 1250)))
    assert isinstance(message, catalog_events_pb2.ProductPriceChanged)
    assert (message.price.units, message.price.nanos) == (9, 990_000_000)
    assert (message.previous_price.units, message.previous_price.nanos) == (12, 500_000_000)


def test_archived_names_the_product() -> None:
    subject, message = event_to_message(ProductArchived(ID))
    assert subject == NAME and message == catalog_events_pb2.ProductArchived(product=NAME)


def test_anything_else_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        event_to_message(object())
