"""The basket use cases: a customer's own basket, checkout's reads and clears, and the
catalog's changes applied to every basket holding a product."""

from __future__ import annotations

from uuid import UUID

from pkg.money import Money
from services.basket.domain import (
    Basket,
    InsufficientStock,
    NotAllowed,
    ProductNotFound,
    ProductNotOnSale,
)
from services.basket.service.ports import BasketStore, Catalog

ME = "me"
"""The user segment that names the caller (``users/me/basket``)."""


def owner_of(user: str, subject: str) -> UUID:
    """The owner of the basket ``users/<user>/basket`` asked for by the token subject
    ``subject``: ``me`` or the subject's own id.  Raises ``NotAllowed`` for another user."""
    if user != ME and user != subject:
        raise NotAllowed()
    return UUID(subject)


class Baskets:
    """A customer's basket over ``store``, asking ``catalog`` about products being added."""

    def __init__(self, store: BasketStore, catalog: Catalog) -> None:
        self._store = store
        self._catalog = catalog

    async def get(self, owner: UUID) -> Basket:
        """The basket of ``owner`` (empty when there is none)."""
        return await self._store.get(owner)

    async def add_item(self, owner: UUID, product_id: UUID, quantity: int) -> Basket:
        """Add ``quantity`` units of the product at the catalog's price now.

        Raises ``ProductNotFound`` (unknown to the catalog), ``ProductNotOnSale`` (not
        ACTIVE), ``InsufficientStock`` (fewer units in stock than the line would hold),
        ``BasketLimit`` and ``pkg.errors.Unavailable`` (the catalog or the store down).
        """
        product = await self._catalog.product(product_id)
        if product is None:
            raise ProductNotFound(product_id)
        if not product.on_sale:
            raise ProductNotOnSale(product_id)
        if product.stock_quantity < quantity:
            raise InsufficientStock(product_id, quantity, product.stock_quantity)
        return await self._store.add_item(owner, product, quantity)

    async def set_quantity(self, owner: UUID, product_id: UUID, quantity: int) -> Basket:
        """See ``BasketStore.set_quantity``."""
        return await self._store.set_quantity(owner, product_id, quantity)

    async def remove_item(self, owner: UUID, product_id: UUID) -> Basket:
        """See ``BasketStore.remove_item``."""
        return await self._store.remove_item(owner, product_id)

    async def clear(self, owner: UUID, *, etag: str = "") -> Basket:
        """See ``BasketStore.clear``."""
        return await self._store.clear(owner, etag=etag)

    async def acknowledge(self, owner: UUID, *, etag: str = "") -> Basket:
        """See ``BasketStore.acknowledge``."""
        return await self._store.acknowledge(owner, etag=etag)


class CatalogChanges:
    """The catalog's events applied to the baskets in ``store``, each once per event id."""

    def __init__(self, store: BasketStore) -> None:
        self._store = store

    async def price_changed(self, product_id: UUID, price: Money, *, event_id: str) -> None:
        """See ``BasketStore.price_changed``."""
        await self._store.price_changed(product_id, price, event_id=event_id)

    async def archived(self, product_id: UUID, *, event_id: str) -> None:
        """See ``BasketStore.archived``."""
        await self._store.archived(product_id, event_id=event_id)
