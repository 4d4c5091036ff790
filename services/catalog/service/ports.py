"""Ports the use cases need, declared here by their consumer (adapters implement them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from pkg.idempotency import IdempotencyKey
from pkg.paging import ListRequest
from pkg.uow import UnitOfWork
from services.catalog.domain import Product


class CatalogQueries(Protocol):
    """Reads of stored products outside any unit of work (committed data only)."""

    async def get(self, product_id: UUID) -> Product | None:
        """The product with ``product_id``, in any state, or ``None``."""
        ...

    async def get_many(self, product_ids: Sequence[UUID]) -> list[Product]:
        """The products of ``product_ids`` that exist, in any state and any order."""
        ...

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """The record of key ``(scope, request_id)``, expired or not, or ``None``."""
        ...

    async def list_products(
        self, request: ListRequest, *, admin: bool
    ) -> tuple[list[Product], str]:
        """One page of products and the next page token ("" on the last page).

        ``request`` is the AIP-132/160 listing (filter over ``categories``, ``price``,
        ``create_time``, ``title``, free text, and ``state`` when ``admin``; ``order_by``
        ``price`` / ``create_time``; keyset pages, AIP-158).  Customers (``admin`` false)
        get ACTIVE products only.  Raises ``InvalidField`` at ``filter``, ``order_by``,
        ``page_size`` or ``page_token`` before anything is read.
        """
        ...


class ProductRepository(Protocol):
    """Stored products inside the unit of work's transaction.  ``add`` and ``save`` hand
    the product to the unit of work, which writes the events it recorded at commit."""

    async def get_for_update(self, product_id: UUID) -> Product | None:
        """The product with ``product_id``, its row locked until the transaction ends
        (writes of the same product wait: no lost update), or ``None``."""
        ...

    async def add(
        self, product: Product, *, key: IdempotencyKey | None = None
    ) -> IdempotencyKey | None:
        """Store a new ``product`` and, when given, the idempotency ``key`` that created
        it; return ``None`` once both are written (committed with the unit of work).

        A record of the same key that expired by ``key.create_time`` is replaced.  When a
        live record holds the key (a concurrent create won), nothing is written and that
        record is returned, for the caller to compare.
        """
        ...

    async def save(self, product: Product) -> None:
        """Write ``product``'s fields, state, ``update_time`` and ``version`` (its row was
        read with ``get_for_update`` in this transaction)."""
        ...


class CatalogRepositories(Protocol):
    """What the catalog service's unit of work holds."""

    @property
    def products(self) -> ProductRepository:
        """The products of the open transaction."""
        ...


CatalogUnitOfWork = UnitOfWork[CatalogRepositories]
"""The unit of work the use cases take (``pkg.uow``)."""
