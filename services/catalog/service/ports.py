"""Ports the use cases need, declared here by their consumer (adapters implement them)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pkg.idempotency import IdempotencyKey
from pkg.paging import PageCursor
from pkg.uow import UnitOfWork
from services.catalog.domain import Product


class Accounts(Protocol):
    """The callers' accounts, as the user service keeps them (a client adapter's port)."""

    async def require_active(self, subject: str) -> None:
        """Return if the account of ``subject`` (the access token's subject, a user id) is
        active now; raise ``AccountDisabled`` (PERMISSION_DENIED) if an admin disabled it,
        and ``pkg.errors.Unavailable`` (reason ``USER_UNAVAILABLE``) while the user service
        cannot tell.  Asked on every call, never cached: a disabled account is refused at
        once, though its access token lives on until it expires."""
        ...


class CatalogQueries(Protocol):
    """Reads of stored products outside any unit of work (committed data only)."""

    async def get(self, product_id: UUID) -> Product | None:
        """The product with ``product_id``, or ``None``."""
        ...

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """The record of key ``(scope, request_id)``, expired or not, or ``None``."""
        ...

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[Product]:
        """Up to ``limit`` products, newest first (``create_time`` then ``id``,
        descending), strictly after ``after`` in that order when given."""
        ...

    async def created_count(self) -> int:
        """How many ``ProductCreated`` events the consumer has counted."""
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
        """Write ``product``'s fields, ``update_time`` and ``version`` (its row was read
        with ``get_for_update`` in this transaction)."""
        ...


class StatisticsRepository(Protocol):
    """The counts the event consumer keeps, inside the unit of work's transaction."""

    async def count_created(self) -> None:
        """Add one to the count of created products."""
        ...


class CatalogRepositories(Protocol):
    """What the catalog service's unit of work holds."""

    @property
    def products(self) -> ProductRepository:
        """The products of the open transaction."""
        ...

    @property
    def statistics(self) -> StatisticsRepository:
        """The consumer's counts in the open transaction."""
        ...


CatalogUnitOfWork = UnitOfWork[CatalogRepositories]
"""The unit of work the use cases take (``pkg.uow``)."""
