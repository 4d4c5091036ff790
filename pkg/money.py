"""Money as a value: an ISO 4217 currency and a whole number of its minor units.

Pure Python (no protobuf, no SQLAlchemy), so domain code holds prices and totals as
``Money``; the ``google.type.Money`` mapping is ``pkg.money_proto`` and the two-column
storage ``pkg.money_sql``.  Amounts are ``int``s of minor units (EUR 12.34 is 1234 cents,
JPY 500 is 500 yen, KWD 1.234 is 1234 fils), so arithmetic is exact: no float is ever
made, and ``str()`` renders digits from the integer.  Every amount fits a signed 64-bit
integer (PostgreSQL ``BIGINT``); a result beyond that raises ``OverflowError``.

Currencies and their minor-unit exponents come from the ISO 4217 table (list one of the
ISO 4217 maintenance agency) as the ``iso4217`` package ships it.  Codes without minor
units (``XAU`` gold, ``XXX`` no currency) are not money here and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import iso4217

MINOR_UNITS_MAX = 2**63 - 1
"""Largest amount in minor units (PostgreSQL ``BIGINT``, protobuf ``int64``)."""
MINOR_UNITS_MIN = -(2**63)
"""Smallest amount in minor units."""

_TEXT = re.compile(r"([A-Z]{3}) (-?)([0-9]+)(?:\.([0-9]+))?")


@cache
def currency_exponent(code: str) -> int:
    """The minor-unit exponent of the ISO 4217 currency ``code`` (EUR 2, JPY 0, KWD 3).

    Raises ``ValueError`` for a code that is not an upper-case ISO 4217 code, or that has no
    minor unit (``XAU``, ``XXX``).
    """
    try:
        exponent = iso4217.Currency(code).exponent
    except ValueError:
        raise ValueError(f"not an ISO 4217 currency code: {code!r}") from None
    if exponent is None:
        raise ValueError(f"ISO 4217 currency {code} has no minor unit")
    return exponent


def _bounded(minor_units: int) -> int:
    if not MINOR_UNITS_MIN <= minor_units <= MINOR_UNITS_MAX:
        raise OverflowError(f"{minor_units} minor units is beyond a 64-bit amount")
    return minor_units


@dataclass(frozen=True, slots=True)
class Money:
    """``minor_units`` of ``currency`` (an ISO 4217 code): ``Money("EUR", 1234)`` is
    EUR 12.34.

    Immutable and hashable; equal when currency and amount are.  ``+`` and ``-`` take
    another ``Money`` of the same currency, ``*`` an ``int`` quantity; ``<`` and friends
    compare amounts of one currency.  Mixing currencies raises ``ValueError``; a result
    beyond 64-bit minor units raises ``OverflowError``; an operand of another type
    (a ``float``, a ``Decimal``, a ``bool``) raises ``TypeError``.

    Construction raises ``ValueError`` for an unknown currency (``currency_exponent``),
    ``TypeError`` when ``minor_units`` is not an ``int``, and ``OverflowError`` beyond
    ``MINOR_UNITS_MIN``..``MINOR_UNITS_MAX``.
    """

    currency: str
    minor_units: int

    def __post_init__(self) -> None:
        currency_exponent(self.currency)
        if not isinstance(self.minor_units, int) or isinstance(self.minor_units, bool):
            raise TypeError(f"minor units must be an int, not {type(self.minor_units).__name__}")
        _bounded(self.minor_units)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """No money in ``currency``, the start of a sum."""
        return cls(currency, 0)

    @classmethod
    def parse(cls, text: str) -> Money:
        """The amount ``str()`` writes: ``"EUR 12.34"``, ``"JPY 500"``, ``"EUR -0.05"``.

        The fraction must have exactly the currency's exponent of digits (``"EUR 12.3"``
        and ``"JPY 5.0"`` are refused).  Raises ``ValueError`` for any other text.
        """
        match = _TEXT.fullmatch(text)
        if match is None:
            raise ValueError(f"not an amount like 'EUR 12.34': {text!r}")
        currency, minus, whole, fraction = match.groups()
        exponent = currency_exponent(currency)
        if len(fraction or "") != exponent or (exponent == 0 and fraction is not None):
            raise ValueError(f"{currency} amounts have {exponent} decimal places: {text!r}")
        magnitude = int(whole) * 10**exponent + int(fraction or "0")
        return cls(currency, -magnitude if minus else magnitude)

    @property
    def exponent(self) -> int:
        """The currency's minor-unit exponent (10**exponent minor units make one unit)."""
        return currency_exponent(self.currency)

    @property
    def is_zero(self) -> bool:
        """Whether the amount is zero."""
        return self.minor_units == 0

    @property
    def is_positive(self) -> bool:
        """Whether the amount is above zero."""
        return self.minor_units > 0

    def _same(self, other: Money, operation: str) -> int:
        if other.currency != self.currency:
            raise ValueError(f"cannot {operation} {self.currency} and {other.currency}")
        return other.minor_units

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.currency, _bounded(self.minor_units + self._same(other, "add")))

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.currency, _bounded(self.minor_units - self._same(other, "subtract")))

    def __mul__(self, quantity: object) -> Money:
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            return NotImplemented
        return Money(self.currency, _bounded(self.minor_units * quantity))

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(self.currency, _bounded(-self.minor_units))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor_units < self._same(other, "compare")

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor_units <= self._same(other, "compare")

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor_units > self._same(other, "compare")

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor_units >= self._same(other, "compare")

    def __str__(self) -> str:
        """``"EUR 12.34"``: code, a space, the amount with the currency's decimal places."""
        exponent = self.exponent
        sign = "-" if self.minor_units < 0 else ""
        whole, fraction = divmod(abs(self.minor_units), 10**exponent)
        decimals = f".{fraction:0{exponent}d}" if exponent else ""
        return f"{self.currency} {sign}{whole}{decimals}"


def total(amounts: Iterable[Money], currency: str) -> Money:
    """The sum of ``amounts``, all in ``currency`` (``Money.zero(currency)`` when empty).

    Raises ``ValueError`` for an amount in another currency and ``OverflowError`` when the
    sum leaves 64-bit minor units.
    """
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
