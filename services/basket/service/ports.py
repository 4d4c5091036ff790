"""Ports the use cases need, declared here by their consumer (adapters implement them)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pkg.idempotency import IdempotencyKey
from pkg.paging import PageCursor
from pkg.uow import UnitOfWork
from services.basket.domain import Basket


class Accounts(Protocol):
    """The callers' accounts, as the user service keeps them (a client adapter's port)."""

    async def require_active(self, subject: str) -> None:
        """Return if the account of ``subject`` (the access token's subject, a user id) is
        active now; raise ``AccountDisabled`` (PERMISSION_DENIED) if an admin disabled it,
        and ``pkg.errors.Unavailable`` (reason ``USER_UNAVAILABLE``) while the user service
        cannot tell.  Asked on every call, never cached: a disabled account is refused at
        once, though its access token lives on until it expires."""
        ...


class BasketQueries(Protocol):
    """Reads of stored baskets outside any unit of work (committed data only)."""

    async def get(self, basket_id: UUID) -> Basket | None:
        """The basket with ``basket_id``, or ``None``."""
        ...

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """The record of key ``(scope, request_id)``, expired or not, or ``None``."""
        ...

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[Basket]:
        """Up to ``limit`` baskets, newest first (``create_time`` then ``id``,
        descending), strictly after ``after`` in that order when given."""
        ...

    async def created_count(self) -> int:
        """How many ``BasketCreated`` events the consumer has counted."""
        ...


class BasketRepository(Protocol):
    """Stored baskets inside the unit of work's transaction.  ``add`` and ``save`` hand
    the basket to the unit of work, which writes the events it recorded at commit."""

    async def get_for_update(self, basket_id: UUID) -> Basket | None:
        """The basket with ``basket_id``, its row locked until the transaction ends
        (writes of the same basket wait: no lost update), or ``None``."""
        ...

    async def add(
        self, basket: Basket, *, key: IdempotencyKey | None = None
    ) -> IdempotencyKey | None:
        """Store a new ``basket`` and, when given, the idempotency ``key`` that created
        it; return ``None`` once both are written (committed with the unit of work).

        A record of the same key that expired by ``key.create_time`` is replaced.  When a
        live record holds the key (a concurrent create won), nothing is written and that
        record is returned, for the caller to compare.
        """
        ...

    async def save(self, basket: Basket) -> None:
        """Write ``basket``'s fields, ``update_time`` and ``version`` (its row was read
        with ``get_for_update`` in this transaction)."""
        ...


class StatisticsRepository(Protocol):
    """The counts the event consumer keeps, inside the unit of work's transaction."""

    async def count_created(self) -> None:
        """Add one to the count of created baskets."""
        ...


class BasketRepositories(Protocol):
    """What the basket service's unit of work holds."""

    @property
    def baskets(self) -> BasketRepository:
        """The baskets of the open transaction."""
        ...

    @property
    def statistics(self) -> StatisticsRepository:
        """The consumer's counts in the open transaction."""
        ...


BasketUnitOfWork = UnitOfWork[BasketRepositories]
"""The unit of work the use cases take (``pkg.uow``)."""
