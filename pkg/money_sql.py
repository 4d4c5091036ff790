"""Storing ``pkg.money.Money`` in two columns a service's declarative ORM maps as one.

An amount named ``price`` is ``price_currency CHAR(3)`` (the ISO 4217 code) and
``price_minor BIGINT`` (minor units), both NOT NULL, with CHECK constraints that the code
is three upper-case letters and, by default, that the amount is positive; the ORM
attribute ``price`` is a ``composite`` of the two (SQLAlchemy 2 "Composite Column
Types")::

    class Product(Base):
        __tablename__ = "products"
        id: Mapped[UUID] = mapped_column(primary_key=True)
        price_currency, price_minor = money_columns("price")
        price: Mapped[Money] = money_composite("price")

The constraints are named as PostgreSQL would name column checks under
``pkg.orm.NAMING_CONVENTION`` (``products_price_currency_check``,
``products_price_minor_check``), so autogenerate and hand-written Alembic migrations agree.
Which currency is accepted is configuration (``MeshSettings.currency``), checked where
requests are parsed, not in the schema.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import CHAR, BigInteger, CheckConstraint
from sqlalchemy.orm import Composite, MappedColumn, composite, mapped_column

from pkg.money import Money

_MINIMUM = {"positive": "> 0", "non_negative": ">= 0"}


def money_columns(
    name: str, *, check: Literal["positive", "non_negative"] = "positive"
) -> tuple[MappedColumn[str], MappedColumn[int]]:
    """The ``<name>_currency`` and ``<name>_minor`` columns of an amount, in that order.

    ``check`` is the CHECK on ``<name>_minor``: ``"positive"`` (``> 0``, a price) or
    ``"non_negative"`` (``>= 0``, a total or a balance that may be nothing).  Assign the
    pair to class attributes of the same names (the CHECKs name the columns).  Raises
    ``ValueError`` for another ``check``.
    """
    if check not in _MINIMUM:
        raise ValueError(f"check must be one of {sorted(_MINIMUM)}, not {check!r}")
    currency, minor = f"{name}_currency", f"{name}_minor"
    return (
        mapped_column(
            currency,
            CHAR(3),
            CheckConstraint(f"{currency} ~ '^[A-Z]{{3}}$'", name=currency),
            nullable=False,
        ),
        mapped_column(
            minor,
            BigInteger,
            CheckConstraint(f"{minor} {_MINIMUM[check]}", name=minor),
            nullable=False,
        ),
    )


def money_composite(name: str, **kwargs: Any) -> Composite[Money]:
    """The ``Money`` attribute over ``money_columns(name)`` (``kwargs`` go to
    ``sqlalchemy.orm.composite``, e.g. ``deferred=True``).

    ``Money`` is immutable: change an amount by assigning a new one.
    """
    return composite(Money, f"{name}_currency", f"{name}_minor", **kwargs)
