"""Ports of the stock use cases, declared by their consumer (``service.stock``).

Every write runs in one unit of work: the reservation's row and the products' stock
change in the same transaction, so a reservation is made whole or not at all.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from pkg.uow import UnitOfWork
from services.catalog.domain.stock import Reservation, ReservationItem


class Shortfall(enum.Enum):
    """Why stock could not be taken from a product."""

    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    INSUFFICIENT = "insufficient"


class ReservationQueries(Protocol):
    """Reads of committed reservations outside any unit of work."""

    async def get_by_order(self, order_id: UUID) -> Reservation | None:
        """The reservation of ``order_id``, or ``None``."""
        ...


class ReservationRepository(Protocol):
    """Reservations and the products' stock inside the unit of work's transaction."""

    async def add(self, reservation: Reservation) -> Reservation | None:
        """Store ``reservation`` (without its items: ``add_items``) unless its order
        holds one; ``None`` once written, else the order's stored reservation (a
        concurrent insert of the same order is waited for: the one that commits first
        wins)."""
        ...

    async def add_items(self, reservation: Reservation) -> None:
        """Store the items of the ``reservation`` just added (after their stock is taken:
        each item names an existing product)."""
        ...

    async def get_for_update(self, reservation_id: UUID) -> Reservation | None:
        """The reservation, its row locked until the transaction ends, or ``None``."""
        ...

    async def due_for_update(self, now: datetime, limit: int) -> list[Reservation]:
        """Up to ``limit`` HELD reservations whose ``expire_time`` is at or before ``now``,
        rows locked, skipping rows another transaction holds (``SKIP LOCKED``)."""
        ...

    async def save(self, reservation: Reservation) -> None:
        """Write ``reservation``'s ``state`` and ``update_time``."""
        ...

    async def take(self, item: ReservationItem) -> Shortfall | None:
        """Lower the product's stock by ``item.quantity`` if it is ACTIVE and holds that
        many, in one conditional statement (never below 0, never read-then-write); ``None``
        when taken, else why not."""
        ...

    async def give_back(self, items: Sequence[ReservationItem]) -> None:
        """Raise each product's stock by the items' quantities, in product id order."""
        ...


class StockRepositories(Protocol):
    """What the stock use cases' unit of work holds."""

    @property
    def reservations(self) -> ReservationRepository:
        """The reservations and stock of the open transaction."""
        ...


StockUnitOfWork = UnitOfWork[StockRepositories]
"""The unit of work the stock use cases take (``pkg.uow``)."""
