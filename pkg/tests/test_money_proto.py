"""``pkg.money_proto``: ``google.type.Money`` in and out, every bad input a named field."""

from __future__ import annotations

import pytest
from google.rpc import code_pb2, error_details_pb2
from google.type import money_pb2

from pkg.errors import InvalidField
from pkg.money import MINOR_UNITS_MAX, MINOR_UNITS_MIN, Money
from pkg.money_proto import money_to_proto, parse_money
from pkg.server import to_status


def _parse(
    units: int = 0,
    nanos: int = 0,
    code: str = "EUR",
    *,
    currency: str = "EUR",
    positive: bool = False,
) -> Money:
    message = money_pb2.Money(currency_code=code, units=units, nanos=nanos)
    return parse_money(message, field="product.price", currency=currency, positive=positive)


def _refusal(**kwargs: object) -> tuple[str, str, str]:
    with pytest.raises(InvalidField) as caught:
        _parse(**kwargs)  # type: ignore[arg-type]
    violation = caught.value.violations[0]
    assert violation.field == caught.value.field and violation.reason == caught.value.reason
    return caught.value.field, caught.value.reason, violation.description


@pytest.mark.parametrize(
    ("units", "nanos", "currency", "minor"),
    [
        (12, 340_000_000, "EUR", 1234),
        (0, 10_000_000, "EUR", 1),
        (0, -10_000_000, "EUR", -1),
        (-12, -340_000_000, "EUR", -1234),
        (0, 990_000_000, "EUR", 99),
        (-1, -990_000_000, "EUR", -199),
        (500, 0, "JPY", 500),
        (1, 234_000_000, "KWD", 1234),
        (0, 1_000_000, "BHD", 1),
        (1, 234_500_000, "CLF", 12345),
        (92_233_720_368_547_758, 70_000_000, "EUR", MINOR_UNITS_MAX),
        (-92_233_720_368_547_758, -80_000_000, "EUR", MINOR_UNITS_MIN),
        (9_223_372_036_854_775_807, 0, "JPY", MINOR_UNITS_MAX),
    ],
)
def test_whole_minor_units_parse_and_round_trip(
    units: int, nanos: int, currency: str, minor: int
) -> None:
    amount = _parse(units, nanos, currency, currency=currency)
    assert amount == Money(currency, minor)
    assert money_to_proto(amount) == money_pb2.Money(
        currency_code=currency, units=units, nanos=nanos
    )


def test_every_amount_near_zero_round_trips() -> None:
    for minor in range(-1_000, 1_001):
        for currency in ("EUR", "JPY", "KWD"):
            amount = Money(currency, minor)
            message = money_to_proto(amount)
            assert message.units * message.nanos >= 0
            assert parse_money(message, field="p", currency=currency) == amount


@pytest.mark.parametrize("code", ["USD", "", "eur", "XAU", "ABC"])
def test_a_currency_other_than_the_meshs_is_not_accepted(code: str) -> None:
    field, reason, description = _refusal(units=1, code=code)
    assert (field, reason) == ("product.price.currency_code", "CURRENCY_NOT_ACCEPTED")
    assert "must be EUR" in description


def test_the_accepted_currency_is_the_one_given() -> None:
    assert _parse(5, code="USD", currency="USD") == Money("USD", 500)
    assert _refusal(units=5, code="EUR", currency="USD")[:2] == (
        "product.price.currency_code",
        "CURRENCY_NOT_ACCEPTED",
    )


@pytest.mark.parametrize("nanos", [1_000_000_000, -1_000_000_000, 2**31 - 1, -(2**31)])
def test_nanos_out_of_range_are_refused(nanos: int) -> None:
    assert _refusal(nanos=nanos)[:2] == ("product.price.nanos", "MONEY_INVALID")


@pytest.mark.parametrize(("units", "nanos"), [(1, -10_000_000), (-1, 10_000_000)])
def test_units_and_nanos_of_opposite_signs_are_refused(units: int, nanos: int) -> None:
    field, reason, description = _refusal(units=units, nanos=nanos)
    assert (field, reason) == ("product.price.nanos", "MONEY_INVALID")
    assert "sign" in description


@pytest.mark.parametrize(
    ("currency", "nanos"),
    [
        ("EUR", 1),
        ("EUR", 5_000_000),
        ("EUR", -999_999_999),
        ("EUR", 999_999_999),
        ("JPY", 1),
        ("JPY", 500_000_000),
        ("KWD", 100_000),
        ("CLF", 10_000),
    ],
)
def test_fractions_of_a_minor_unit_are_refused(currency: str, nanos: int) -> None:
    field, reason, description = _refusal(units=0, nanos=nanos, code=currency, currency=currency)
    assert (field, reason) == ("product.price.nanos", "MONEY_INVALID")
    assert "minor unit" in description


@pytest.mark.parametrize(
    ("units", "nanos", "currency"),
    [
        (92_233_720_368_547_758, 80_000_000, "EUR"),
        (-92_233_720_368_547_758, -90_000_000, "EUR"),
        (2**63 - 1, 0, "EUR"),
        (-(2**63), 0, "KWD"),
    ],
)
def test_amounts_beyond_64_bit_minor_units_are_refused(
    units: int, nanos: int, currency: str
) -> None:
    field, reason, _ = _refusal(units=units, nanos=nanos, code=currency, currency=currency)
    assert (field, reason) == ("product.price.units", "MONEY_INVALID")


@pytest.mark.parametrize(("units", "nanos"), [(0, 0), (0, -10_000_000), (-5, 0)])
def test_a_price_must_be_positive(units: int, nanos: int) -> None:
    assert _parse(units, nanos) == Money("EUR", units * 100 + nanos // 10_000_000)
    field, reason, description = _refusal(units=units, nanos=nanos, positive=True)
    assert (field, reason) == ("product.price", "MONEY_NOT_POSITIVE")
    assert description == "must be more than zero"
    assert _parse(0, 10_000_000, positive=True) == Money("EUR", 1)


def test_a_refusal_is_invalid_argument_with_the_field_in_its_message() -> None:
    with pytest.raises(InvalidField) as caught:
        _parse(nanos=1)
    assert caught.value.message.startswith("product.price.nanos: ")


def test_a_refusal_reaches_the_caller_as_invalid_argument_naming_the_field() -> None:
    with pytest.raises(InvalidField) as caught:
        _parse(units=-1, positive=True)
    status = to_status(caught.value)
    assert status.code == code_pb2.INVALID_ARGUMENT
    info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(bad_request)
    assert info.reason == "MONEY_NOT_POSITIVE"
    [violation] = bad_request.field_violations
    assert (violation.field, violation.reason) == ("product.price", "MONEY_NOT_POSITIVE")
