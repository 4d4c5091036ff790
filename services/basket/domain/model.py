"""Baskets: one per customer, lines of products at the unit price the customer agreed to.

Pure Python: no gRPC, no Redis.  Amounts are ``pkg.money.Money`` (integer minor units);
instants are timezone-aware UTC ``datetime``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pkg.money import Money, total

LINE_QUANTITY_MAX = 99
"""Most units one line holds."""
LINES_MAX = 50
"""Most lines one basket holds."""


@dataclass(frozen=True, slots=True)
class BasketLine:
    """One product's line: ``quantity`` (1..99) units at ``unit_price``, the price the
    customer saw when adding it or acknowledged since.

    ``catalog_unit_price`` is the catalog's newer price while ``price_changed``;
    ``unavailable`` means the product was archived (the line is out of the total).
    """

    product_id: UUID
    title: str
    quantity: int
    unit_price: Money
    price_changed: bool = False
    catalog_unit_price: Money | None = None
    unavailable: bool = False

    @property
    def line_total(self) -> Money:
        """``unit_price`` times ``quantity``."""
        return self.unit_price * self.quantity

    @property
    def flagged(self) -> bool:
        """Whether the customer must acknowledge a change of this line."""
        return self.price_changed or self.unavailable


@dataclass(frozen=True, slots=True)
class Basket:
    """The basket of ``owner``: ``lines`` in the order they were added.

    An empty basket (never filled, cleared or expired) has no lines, no ``update_time``,
    no ``expire_time`` and the empty ``etag``.  ``etag`` changes with every change
    (AIP-154); ``expire_time`` is 30 days (the store's TTL) after the last change.
    """

    owner: UUID
    currency: str
    lines: tuple[BasketLine, ...] = ()
    update_time: datetime | None = None
    expire_time: datetime | None = None
    etag: str = ""

    @property
    def total(self) -> Money:
        """Sum of the available lines' totals, in ``currency``."""
        return total(
            (line.line_total for line in self.lines if not line.unavailable), self.currency
        )

    @property
    def has_changes(self) -> bool:
        """Whether a line is flagged: checkout refuses the basket until acknowledged."""
        return any(line.flagged for line in self.lines)


@dataclass(frozen=True, slots=True)
class CatalogProduct:
    """What the catalog says of a product now: ``title``, ``price``, ``stock_quantity``
    (units in stock and not reserved) and whether it is ``on_sale`` (ACTIVE)."""

    product_id: UUID
    title: str
    price: Money
    stock_quantity: int
    on_sale: bool
