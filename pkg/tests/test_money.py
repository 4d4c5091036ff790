"""``pkg.money``: ISO 4217 exponents, exact integer arithmetic, bounds and formatting."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from pydantic import ValidationError

from pkg.config import MeshSettings
from pkg.money import MINOR_UNITS_MAX, MINOR_UNITS_MIN, Money, currency_exponent, total

EUR = Money.zero("EUR")


def test_exponents_are_iso_4217s() -> None:
    assert [currency_exponent(c) for c in ("EUR", "USD", "JPY", "KWD", "BHD", "CLF")] == [
        2,
        2,
        0,
        3,
        3,
        4,
    ]


@pytest.mark.parametrize("code", ["", "eur", "EURO", "ABC", "XAU", "XXX", "XTS"])
def test_codes_that_are_not_iso_4217_currencies_with_a_minor_unit_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(code, 1)


@pytest.mark.parametrize("minor", [1.0, Decimal("1"), "1", True, None])
def test_minor_units_are_only_ints(minor: object) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        Money("EUR", minor)  # type: ignore[arg-type]


def test_amounts_are_bounded_to_64_bit_minor_units() -> None:
    assert Money("EUR", MINOR_UNITS_MAX).minor_units == 2**63 - 1
    assert Money("EUR", MINOR_UNITS_MIN).minor_units == -(2**63)
    for minor in (MINOR_UNITS_MAX + 1, MINOR_UNITS_MIN - 1):
        with pytest.raises(OverflowError):
            Money("EUR", minor)
    top = Money("EUR", MINOR_UNITS_MAX)
    with pytest.raises(OverflowError):
        top + Money("EUR", 1)
    with pytest.raises(OverflowError):
        Money("EUR", MINOR_UNITS_MIN) - Money("EUR", 1)
    with pytest.raises(OverflowError):
        top * 2
    with pytest.raises(OverflowError):
        -Money("EUR", MINOR_UNITS_MIN)
    with pytest.raises(OverflowError):
        total([top, Money("EUR", 1)], "EUR")


def test_sums_of_cents_are_exact_where_floats_are_not() -> None:
    assert 0.1 + 0.2 != 0.3
    assert Money.parse("EUR 0.10") + Money.parse("EUR 0.20") == Money.parse("EUR 0.30")
    dimes = total([Money("EUR", 10)] * 1_000, "EUR")
    assert dimes == Money("EUR", 10_000)
    assert str(dimes) == "EUR 100.00"
    assert str(Money("EUR", 1) * 3 - Money("EUR", 3)) == "EUR 0.00"


def test_arithmetic_keeps_the_currency_and_takes_int_quantities() -> None:
    price = Money("EUR", 1234)
    assert price * 3 == 3 * price == Money("EUR", 3702)
    assert price - Money("EUR", 2000) == Money("EUR", -766)
    assert -price == Money("EUR", -1234)
    assert price * 0 == EUR and (price * 0).is_zero and not EUR.is_positive
    assert price.is_positive and not (-price).is_positive
    for quantity in (1.5, Decimal("2"), True):
        with pytest.raises(TypeError):
            price * quantity  # type: ignore[operator]
    with pytest.raises(TypeError):
        price + 1  # type: ignore[operator]


def test_mixing_currencies_is_refused() -> None:
    eur, usd = Money("EUR", 100), Money("USD", 100)
    for operation in (
        lambda: eur + usd,
        lambda: eur - usd,
        lambda: eur < usd,
        lambda: eur >= usd,
        lambda: total([eur, usd], "EUR"),
        lambda: total([usd], "EUR"),
    ):
        with pytest.raises(ValueError, match=r"EUR and USD|USD and EUR"):
            operation()
    assert eur != usd


def test_comparisons_order_amounts_of_one_currency() -> None:
    small, large = Money("EUR", 99), Money("EUR", 100)
    assert small < large and small <= large and large > small and large >= small
    assert not large < small and small <= Money("EUR", 99) and small >= Money("EUR", 99)
    assert max([small, large]) == large and sorted([large, small]) == [small, large]
    assert len({Money("EUR", 1), Money("EUR", 1), Money("USD", 1)}) == 2
    with pytest.raises(TypeError):
        small < 100  # type: ignore[operator]  # noqa: B015


def test_a_sum_of_nothing_is_zero_in_the_given_currency() -> None:
    assert total([], "JPY") == Money("JPY", 0)
    assert total(iter([Money("KWD", 1), Money("KWD", 2)]), "KWD") == Money("KWD", 3)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Money("EUR", 1234), "EUR 12.34"),
        (Money("EUR", 5), "EUR 0.05"),
        (Money("EUR", -5), "EUR -0.05"),
        (Money("EUR", -1234), "EUR -12.34"),
        (Money("EUR", 0), "EUR 0.00"),
        (Money("JPY", 500), "JPY 500"),
        (Money("JPY", -1), "JPY -1"),
        (Money("KWD", 1234), "KWD 1.234"),
        (Money("BHD", 1), "BHD 0.001"),
        (Money("CLF", 12345), "CLF 1.2345"),
        (Money("EUR", MINOR_UNITS_MAX), "EUR 92233720368547758.07"),
        (Money("EUR", MINOR_UNITS_MIN), "EUR -92233720368547758.08"),
    ],
)
def test_amounts_print_with_the_currencys_decimal_places_and_parse_back(
    amount: Money, text: str
) -> None:
    assert str(amount) == text
    assert Money.parse(text) == amount


@pytest.mark.parametrize(
    "text",
    ["EUR 12.3", "EUR 12.345", "EUR 12", "JPY 5.0", "eur 1.00", "EUR 1,00", "EUR  1.00", "1.00"],
)
def test_text_with_other_decimal_places_or_shape_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Money.parse(text)


def test_the_mesh_currency_is_a_setting_that_must_be_iso_4217(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AGORA_CURRENCY", raising=False)
    assert MeshSettings().currency == "EUR"
    monkeypatch.setenv("AGORA_CURRENCY", "JPY")
    assert MeshSettings().currency == "JPY"
    for code in ("XAU", "eur", "EURO"):
        monkeypatch.setenv("AGORA_CURRENCY", code)
        with pytest.raises(ValidationError, match="ISO 4217"):
            MeshSettings()


def test_the_value_type_pulls_in_no_protobuf_grpc_or_sqlalchemy() -> None:
    probe = "import sys, pkg.money; print('\\n'.join(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert "pkg.money" in loaded
    assert [m for m in loaded if m.split(".")[0] in ("grpc", "sqlalchemy", "agora")] == []
    assert [m for m in loaded if m.startswith("google.")] == []
