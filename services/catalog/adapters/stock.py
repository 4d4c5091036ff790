"""The stock ports on PostgreSQL: ``ReservationQueries`` and the unit of work's
``ReservationRepository``, with SQLAlchemy 2's asyncio core statements and psycopg 3.

Stock is taken by one conditional ``UPDATE products SET stock_quantity = stock_quantity
- n WHERE id = :id AND stock_quantity >= n AND state = 'active'`` per item: the row lock
it takes makes concurrent reservations of one product apply one after the other, and the
condition is re-checked on the row's newest version (READ COMMITTED), so stock never goes
below zero and is never read and then written.  Callers take items in product id order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.uow import Aggregate
from services.catalog.adapters.orm import ProductRow
from services.catalog.adapters.orm_stock import ReservationItemRow, ReservationRow
from services.catalog.domain.events import ProductState
from services.catalog.domain.stock import Reservation, ReservationItem, ReservationState
from services.catalog.service.stock_ports import Shortfall


async def _load(session: AsyncSession, row: ReservationRow) -> Reservation:
    items = (
        await session.execute(
            select(ReservationItemRow.product_id, ReservationItemRow.quantity)
            .where(ReservationItemRow.reservation_id == row.id)
            .order_by(ReservationItemRow.product_id)
        )
    ).all()
    return Reservation(
        id=row.id,
        order_id=row.order_id,
        items=tuple(ReservationItem(product_id, quantity) for product_id, quantity in items),
        state=ReservationState(row.state),
        expire_time=row.expire_time,
        create_time=row.create_time,
        update_time=row.update_time,
    )


class SqlReservationQueries:
    """See ``services.catalog.service.stock_ports.ReservationQueries``: each read in one
    session of ``sessions``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get_by_order(self, order_id: UUID) -> Reservation | None:
        """See ``ReservationQueries.get_by_order``."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(ReservationRow).where(ReservationRow.order_id == order_id)
            )
            return None if row is None else await _load(session, row)


class SqlReservationRepository:
    """See ``services.catalog.service.stock_ports.ReservationRepository``: works in
    ``session`` (the unit of work's); ``seen`` is the unit of work's, for the
    reservations' events."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self._session = session
        self._seen = seen

    async def add(self, reservation: Reservation) -> Reservation | None:
        """See ``ReservationRepository.add`` (``INSERT ... ON CONFLICT (order_id) DO
        NOTHING``: PostgreSQL waits for a concurrent insert of the same order to end)."""
        inserted = await self._session.scalar(
            insert(ReservationRow)
            .values(
                id=reservation.id,
                order_id=reservation.order_id,
                state=reservation.state.value,
                expire_time=reservation.expire_time,
                create_time=reservation.create_time,
                update_time=reservation.update_time,
            )
            .on_conflict_do_nothing(index_elements=["order_id"])
            .returning(ReservationRow.id)
        )
        if inserted is None:
            row = await self._session.scalar(
                select(ReservationRow)
                .where(ReservationRow.order_id == reservation.order_id)
                .execution_options(populate_existing=True)
            )
            assert row is not None  # the conflicting row is committed
            return await _load(self._session, row)
        self._seen(reservation)
        return None

    async def add_items(self, reservation: Reservation) -> None:
        """See ``ReservationRepository.add_items``."""
        await self._session.execute(
            insert(ReservationItemRow),
            [
                {
                    "reservation_id": reservation.id,
                    "product_id": item.product_id,
                    "quantity": item.quantity,
                }
                for item in reservation.items
            ],
        )

    async def get_for_update(self, reservation_id: UUID) -> Reservation | None:
        """See ``ReservationRepository.get_for_update`` (``SELECT ... FOR UPDATE``)."""
        row = await self._session.scalar(
            select(ReservationRow)
            .where(ReservationRow.id == reservation_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None:
            return None
        reservation = await _load(self._session, row)
        self._seen(reservation)
        return reservation

    async def due_for_update(self, now: datetime, limit: int) -> list[Reservation]:
        """See ``ReservationRepository.due_for_update`` (``FOR UPDATE SKIP LOCKED``, the
        soonest deadlines first)."""
        rows = (
            await self._session.scalars(
                select(ReservationRow)
                .where(
                    ReservationRow.state == ReservationState.HELD.value,
                    ReservationRow.expire_time <= now,
                )
                .order_by(ReservationRow.expire_time)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        ).all()
        return [await _load(self._session, row) for row in rows]

    async def save(self, reservation: Reservation) -> None:
        """See ``ReservationRepository.save``."""
        await self._session.execute(
            update(ReservationRow)
            .where(ReservationRow.id == reservation.id)
            .values(state=reservation.state.value, update_time=reservation.update_time)
            .execution_options(synchronize_session=False)
        )
        self._seen(reservation)

    async def take(self, item: ReservationItem) -> Shortfall | None:
        """See ``ReservationRepository.take``: the conditional ``UPDATE``; when it matches
        no row, one ``SELECT`` says why."""
        taken = await self._session.scalar(
            update(ProductRow)
            .where(
                ProductRow.id == item.product_id,
                ProductRow.stock_quantity >= item.quantity,
                ProductRow.state == ProductState.ACTIVE.value,
            )
            .values(stock_quantity=ProductRow.stock_quantity - item.quantity)
            .returning(ProductRow.id)
            .execution_options(synchronize_session=False)
        )
        if taken is not None:
            return None
        state = await self._session.scalar(
            select(ProductRow.state).where(ProductRow.id == item.product_id)
        )
        if state is None:
            return Shortfall.NOT_FOUND
        if state != ProductState.ACTIVE.value:
            return Shortfall.UNAVAILABLE
        return Shortfall.INSUFFICIENT

    async def give_back(self, items: Sequence[ReservationItem]) -> None:
        """See ``ReservationRepository.give_back`` (one ``UPDATE`` per product)."""
        totals: Counter[UUID] = Counter()
        for item in items:
            totals[item.product_id] += item.quantity
        for product_id in sorted(totals):
            await self._session.execute(
                update(ProductRow)
                .where(ProductRow.id == product_id)
                .values(stock_quantity=ProductRow.stock_quantity + totals[product_id])
                .execution_options(synchronize_session=False)
            )


class SqlStockRepositories:
    """``StockRepositories`` of one unit of work, on its session."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self.reservations = SqlReservationRepository(session, seen)
