"""Requests -> domain: every bad field of a product is an ``InvalidField`` at the
request's path (AIP-193), and an update reads only the fields its mask names."""

from __future__ import annotations

from typing import Any

import pytest
from google.type import money_pb2

from pkg.money import Money
from services.catalog.domain import InvalidField
from services.catalog.entrypoints.grpc.mappers import (
    parse_product_changes,
    parse_product_fields,
    parse_product_name,
)
from services.catalog.tests.factories import CURRENCY, product_message


def _price(currency: str = CURRENCY, units: int = 1, nanos: int = 0) -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"price": _price(units=0)}, "product.price", "MONEY_NOT_POSITIVE"),
        ({"price": _price(units=-5)}, "product.price", "MONEY_NOT_POSITIVE"),
        ({"price": _price("USD")}, "product.price.currency_code", "CURRENCY_NOT_ACCEPTED"),
        ({"price": _price(nanos=1_000_000_000)}, "product.price.nanos", "MONEY_INVALID"),
        ({"price": _price(nanos=1)}, "product.price.nanos", "MONEY_INVALID"),
        ({"price": _price(units=1, nanos=-10_000_000)}, "product.price.nanos", "MONEY_INVALID"),
        ({"title": ""}, "product.title", "TITLE_INVALID"),
        ({"stock_quantity": 1_000_001}, "product.stock_quantity", "STOCK_INVALID"),
        ({"categories": ["Bad Word"]}, "product.categories", "CATEGORY_INVALID"),
    ],
)
def test_bad_fields_name_the_request_path(
    overrides: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_product_fields(product_message(**overrides), currency=CURRENCY)
    assert (caught.value.field, str(caught.value.reason)) == (field, reason)


def test_a_missing_price_is_refused() -> None:
    message = product_message()
    message.ClearField("price")
    with pytest.raises(InvalidField) as caught:
        parse_product_fields(message, currency=CURRENCY)
    assert caught.value.field == "product.price.currency_code"


def test_an_update_reads_only_the_masked_fields() -> None:
    message = product_message(title="", price=_price(units=0), stock_quantity=9)
    assert parse_product_changes(message, {"stock_quantity"}, currency=CURRENCY) == {
        "stock_quantity": 9
    }
    with pytest.raises(InvalidField) as caught:
        parse_product_changes(message, {"title"}, currency=CURRENCY)
    assert caught.value.field == "product.title"


def test_prices_come_back_in_whole_minor_units() -> None:
    fields = parse_product_fields(product_message(), currency=CURRENCY)
    assert fields.price == Money(CURRENCY, 1250)


@pytest.mark.parametrize("name", ["products/x", "users/00000000-0000-4000-8000-000000000001", ""])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_product_name(name)
    assert str(caught.value.reason) == "NAME_INVALID"
