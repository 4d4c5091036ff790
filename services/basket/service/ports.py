"""The basket service's ports, defined here by the use cases that need them (kratos-layout):
the basket store and the catalog.  Adapters in ``services.basket.adapters`` implement them;
the unit tests' fakes implement the same Protocols."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pkg.money import Money
from services.basket.domain import Basket, CatalogProduct


class BasketStore(Protocol):
    """Every basket, one per owner (a user id); each change is atomic under concurrency
    and refreshes the basket's TTL (a basket untouched for the TTL is forgotten).

    Every method raises ``pkg.errors.Unavailable`` when the store cannot be reached.
    """

    async def get(self, owner: UUID) -> Basket:
        """The basket of ``owner`` (empty when there is none)."""
        ...

    async def add_item(self, owner: UUID, product: CatalogProduct, quantity: int) -> Basket:
        """Add ``quantity`` units of ``product`` at its price (a new line) or to its line.

        The line is flagged ``price_changed`` when the store knows a newer catalog price
        than the line's (an event that raced the catalog read).  Raises ``BasketLimit``
        (the line above 99 units, the basket above 50 lines), ``InsufficientStock`` (the
        line above ``product.stock_quantity``), ``ProductNotOnSale`` (archived since).
        """
        ...

    async def set_quantity(self, owner: UUID, product_id: UUID, quantity: int) -> Basket:
        """Set the line's quantity; ``ItemNotFound`` when there is no such line,
        ``BasketLimit`` outside 1..99."""
        ...

    async def remove_item(self, owner: UUID, product_id: UUID) -> Basket:
        """Remove the line (nothing changes when there is none)."""
        ...

    async def clear(self, owner: UUID, *, etag: str = "") -> Basket:
        """Remove every line; with ``etag``, only if it is the basket's current one (else
        the basket is returned unchanged)."""
        ...

    async def acknowledge(self, owner: UUID, *, etag: str = "") -> Basket:
        """Apply the flags: a changed price becomes the line's, unavailable lines go.
        ``EtagMismatch`` when ``etag`` is given and not current."""
        ...

    async def price_changed(self, product_id: UUID, price: Money, *, event_id: str) -> int | None:
        """Flag every line of the product whose unit price is not ``price`` (and unflag
        those whose is), once per ``event_id``; the number of lines seen, ``None`` when
        the event was applied before."""
        ...

    async def archived(self, product_id: UUID, *, event_id: str) -> int | None:
        """Flag every line of the product unavailable, once per ``event_id``; the number
        of lines flagged, ``None`` when the event was applied before."""
        ...


class Catalog(Protocol):
    """What the catalog says of products now."""

    async def product(self, product_id: UUID) -> CatalogProduct | None:
        """The product, in any state; ``None`` when the catalog has none.  Raises
        ``pkg.errors.Unavailable`` (``CATALOG_UNAVAILABLE``) when the catalog is down or
        slower than its deadline."""
        ...
