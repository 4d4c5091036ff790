"""Use cases on stock reservations (internal, for the order service's checkout saga):
reserve all items or none, commit, release, and expire what nobody committed in time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from uuid import UUID, uuid4

from pkg.clock import Clock, utcnow
from pkg.errors import Unavailable
from services.catalog.domain.errors import ProductNotFound
from services.catalog.domain.stock import (
    InsufficientStock,
    ProductUnavailable,
    Reservation,
    ReservationItem,
    ReservationMismatch,
    ReservationNotFound,
)
from services.catalog.service.stock_ports import ReservationQueries, Shortfall, StockUnitOfWork

DEFAULT_RESERVATION_TTL = timedelta(minutes=15)
"""How long a reservation is held when nobody commits or releases it."""

_log = logging.getLogger(__name__)


class Stock:
    """Use cases on reservations.

    ``queries`` reads outside a transaction; ``units`` makes one unit of work per write;
    ``clock`` (``pkg.clock.Clock``) stamps reservations, which are held ``ttl``.
    """

    def __init__(
        self,
        queries: ReservationQueries,
        units: Callable[[], StockUnitOfWork],
        *,
        clock: Clock = utcnow,
        ttl: timedelta = DEFAULT_RESERVATION_TTL,
    ) -> None:
        self._queries = queries
        self._units = units
        self._clock = clock
        self._ttl = ttl

    async def reserve(self, order_id: UUID, items: Sequence[ReservationItem]) -> Reservation:
        """Hold ``items`` for ``order_id``: every item's stock or none, in one transaction,
        the products locked in id order (so concurrent reservations never deadlock).
        Idempotent per order: an order that holds a reservation of the same items gets it
        back in whatever state it is; of other items, ``ReservationMismatch``.  Raises
        ``ProductNotFound``, ``ProductUnavailable`` (not ACTIVE) and ``InsufficientStock``
        for the first product (by id) that fails; then nothing is reserved."""
        wanted = tuple(items)
        held = await self._queries.get_by_order(order_id)
        if held is not None:
            return _same(held, wanted)
        reservation = Reservation.create(
            id=uuid4(), order_id=order_id, items=wanted, now=self._clock(), ttl=self._ttl
        )
        async with self._units() as uow:
            repository = uow.repositories.reservations
            held = await repository.add(reservation)
            if held is not None:
                return _same(held, wanted)
            for item in reservation.items:
                shortfall = await repository.take(item)
                if shortfall is not None:
                    raise _refusal(shortfall, item)
            await repository.add_items(reservation)
            await uow.commit()
        return reservation

    async def commit(self, reservation_id: UUID) -> Reservation:
        """Commit the reservation (its stock is sold); idempotent.  Raises
        ``ReservationNotFound`` and ``ReservationStateInvalid`` (released or expired)."""
        async with self._units() as uow:
            repository = uow.repositories.reservations
            current = await repository.get_for_update(reservation_id)
            if current is None:
                raise ReservationNotFound(reservation_id)
            changed = current.committed(self._clock())
            if changed is not current:
                await repository.save(changed)
                await uow.commit()
        return changed

    async def release(self, reservation_id: UUID) -> Reservation:
        """Release the reservation (its stock returns, once); idempotent, and an expired
        reservation is left as it is.  Raises ``ReservationNotFound`` and
        ``ReservationStateInvalid`` (committed)."""
        async with self._units() as uow:
            repository = uow.repositories.reservations
            current = await repository.get_for_update(reservation_id)
            if current is None:
                raise ReservationNotFound(reservation_id)
            changed = current.released(self._clock())
            if changed is not current:
                await repository.save(changed)
                await repository.give_back(changed.items)
                await uow.commit()
        return changed

    async def expire_due(self, *, limit: int = 100) -> int:
        """Expire up to ``limit`` held reservations past their deadline, returning their
        stock in the same transaction as the state change; the number expired.  Safe to
        run in many processes at once: each reservation is expired by exactly one of them
        (rows locked with ``SKIP LOCKED``)."""
        now = self._clock()
        async with self._units() as uow:
            repository = uow.repositories.reservations
            due = await repository.due_for_update(now, limit)
            returned: list[ReservationItem] = []
            for reservation in due:
                changed = reservation.expired(now)
                await repository.save(changed)
                returned.extend(changed.items)
            if due:
                await repository.give_back(returned)
                await uow.commit()
        return len(due)


async def sweep(stock: Stock, *, interval: float, batch: int = 100) -> None:
    """Expire due reservations forever (a ``GrpcServer`` background loop, one per worker
    process; any number may run at once): a full ``batch`` is followed at once by the
    next, else the loop waits ``interval`` seconds.  A database that is down
    (``Unavailable``) is logged and tried again after ``interval``."""
    while True:
        try:
            expired = await stock.expire_due(limit=batch)
        except Unavailable:
            _log.warning("reservation sweep failed: the database is unavailable")
            expired = 0
        if expired:
            _log.info("reservations expired", extra={"count": expired})
        if expired < batch:
            await asyncio.sleep(interval)


def _same(held: Reservation, wanted: tuple[ReservationItem, ...]) -> Reservation:
    if not held.holds(wanted):
        raise ReservationMismatch(held.order_id, held.id)
    return held


def _refusal(shortfall: Shortfall, item: ReservationItem) -> Exception:
    match shortfall:
        case Shortfall.NOT_FOUND:
            return ProductNotFound(item.product_id)
        case Shortfall.UNAVAILABLE:
            return ProductUnavailable(item.product_id)
        case Shortfall.INSUFFICIENT:
            return InsufficientStock(item.product_id, item.quantity)
