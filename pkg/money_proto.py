"""``pkg.money.Money`` <-> ``google.type.Money``, the one mapping every entrypoint uses.

``google.type.Money`` (google/type/money.proto) is a currency code, whole ``units``
(int64) and ``nanos`` (int32, 10**-9 units) of the same sign: when ``units`` is positive
``nanos`` is zero or positive, when negative zero or negative, and it lies in
``[-999_999_999, 999_999_999]``.  Agora accepts only whole minor units (``nanos`` a
multiple of 10**(9 - exponent): EUR 12.34 is ``units=12, nanos=340_000_000``; a JPY
amount has ``nanos=0``) in the mesh's one currency (``MeshSettings.currency``).
"""

from __future__ import annotations

from google.type import money_pb2

from agora.errors.v1.reasons import SharedReason
from pkg.errors import InvalidField
from pkg.money import MINOR_UNITS_MAX, MINOR_UNITS_MIN, Money, currency_exponent

NANOS_MAX = 999_999_999
"""Largest ``nanos`` magnitude ``google.type.Money`` allows."""


def money_to_proto(amount: Money) -> money_pb2.Money:
    """``amount`` as a ``google.type.Money``: ``Money("EUR", -1234)`` is
    ``currency_code="EUR", units=-12, nanos=-340_000_000``."""
    exponent = amount.exponent
    whole, fraction = divmod(abs(amount.minor_units), 10**exponent)
    sign = -1 if amount.minor_units < 0 else 1
    return money_pb2.Money(
        currency_code=amount.currency,
        units=sign * whole,
        nanos=sign * fraction * 10 ** (9 - exponent),
    )


def parse_money(
    message: money_pb2.Money, *, field: str, currency: str, positive: bool = False
) -> Money:
    """The ``Money`` of a request's ``google.type.Money`` at ``field`` (``product.price``).

    ``currency`` is the one currency the mesh accepts (``MeshSettings.currency``);
    ``positive`` refuses zero and negative amounts (a price).  Raises ``InvalidField``
    (INVALID_ARGUMENT with one field violation, AIP-193) naming the offending part:

    - ``<field>.currency_code``, CURRENCY_NOT_ACCEPTED: empty, or not ``currency``;
    - ``<field>.nanos``, MONEY_INVALID: outside ``[-999_999_999, 999_999_999]``, of the
      opposite sign to ``units``, or a fraction of the currency's minor unit;
    - ``<field>.units``, MONEY_INVALID: the amount is beyond 64-bit minor units;
    - ``<field>``, MONEY_NOT_POSITIVE: zero or negative when ``positive``.
    """
    if message.currency_code != currency:
        raise InvalidField(
            f"{field}.currency_code",
            f"must be {currency}, the currency this marketplace trades in",
            reason=SharedReason.CURRENCY_NOT_ACCEPTED,
        )
    units, nanos = message.units, message.nanos
    if not -NANOS_MAX <= nanos <= NANOS_MAX:
        raise _invalid(f"{field}.nanos", f"must be within [-{NANOS_MAX}, {NANOS_MAX}]")
    if (units > 0 and nanos < 0) or (units < 0 and nanos > 0):
        raise _invalid(f"{field}.nanos", "must have the sign of units (or be zero)")
    exponent = currency_exponent(currency)
    step = 10 ** (9 - exponent)
    if nanos % step:
        raise _invalid(
            f"{field}.nanos",
            f"must be a whole number of {currency}'s minor unit "
            f"(a multiple of {step}: {exponent} decimal places)",
        )
    minor_units = units * 10**exponent + nanos // step
    if not MINOR_UNITS_MIN <= minor_units <= MINOR_UNITS_MAX:
        raise _invalid(f"{field}.units", "is too large: beyond 64-bit minor units")
    amount = Money(currency, minor_units)
    if positive and not amount.is_positive:
        raise InvalidField(field, "must be more than zero", reason=SharedReason.MONEY_NOT_POSITIVE)
    return amount


def _invalid(field: str, description: str) -> InvalidField:
    return InvalidField(field, description, reason=SharedReason.MONEY_INVALID)
