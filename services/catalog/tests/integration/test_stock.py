"""Stock reservations on PostgreSQL: all or nothing, never overselling under 50 concurrent
reservations, idempotent per order even racing itself, commit and release once, and expiry
by sweepers in two processes returning the stock exactly once."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from agora.catalog.v1 import stock_events_pb2
from pkg.db import create_engine, session_factory
from pkg.errors import FailedPrecondition
from pkg.events import OUTBOX, open_envelope
from services.catalog.adapters.orm import ProductRow
from services.catalog.adapters.stock import SqlReservationQueries
from services.catalog.app import stock_units
from services.catalog.domain.errors import ProductNotFound
from services.catalog.domain.stock import (
    InsufficientStock,
    ProductUnavailable,
    ReservationItem,
    ReservationMismatch,
    ReservationState,
    ReservationStateInvalid,
)
from services.catalog.service.stock import Stock

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database, pool_size=10, max_overflow=5)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE products, reservations, outbox, inbox CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


def _stock(sessions: async_sessionmaker[AsyncSession], **kwargs: object) -> Stock:
    return Stock(SqlReservationQueries(sessions), stock_units(sessions), **kwargs)  # type: ignore[arg-type]


async def _product(
    sessions: async_sessionmaker[AsyncSession], stock: int, state: str = "active"
) -> UUID:
    product_id = uuid4()
    now = datetime.now(UTC)
    async with sessions() as session:
        await session.execute(
            text(
                "INSERT INTO products (id, title, description, price_currency, price_minor,"
                " stock_quantity, state, categories, create_time, update_time, version)"
                " VALUES (:id, 'Lamp', '', 'EUR', 1999, :stock, :state, '{}', :now, :now, 1)"
            ),
            {"id": product_id, "stock": stock, "state": state, "now": now},
        )
        await session.commit()
    return product_id


async def _stock_of(sessions: async_sessionmaker[AsyncSession], product_id: UUID) -> int:
    async with sessions() as session:
        quantity = await session.scalar(
            select(ProductRow.stock_quantity).where(ProductRow.id == product_id)
        )
    assert quantity is not None
    return quantity


async def _events(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[bytes]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(OUTBOX.c.envelope).where(OUTBOX.c.type == f"agora.catalog.v1.{kind}")
            )
        ).all()
    return [row[0] for row in rows]


async def test_a_reservation_takes_every_item_and_records_stock_reserved(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    lamp, chair = await _product(sessions, 5), await _product(sessions, 3)
    stock = _stock(sessions)
    reservation = await stock.reserve(
        uuid4(), [ReservationItem(lamp, 2), ReservationItem(chair, 3)]
    )
    assert reservation.state is ReservationState.HELD
    assert (await _stock_of(sessions, lamp), await _stock_of(sessions, chair)) == (3, 0)
    [envelope] = await _events(sessions, "StockReserved")
    event = stock_events_pb2.StockReserved()
    open_envelope(envelope).payload.Unpack(event)
    assert event.reservation == f"reservations/{reservation.id}"
    assert sorted((item.product, item.quantity) for item in event.items) == sorted(
        [(f"products/{lamp}", 2), (f"products/{chair}", 3)]
    )


@pytest.mark.parametrize(
    ("state", "stock_level", "error"),
    [
        ("active", 1, InsufficientStock),
        ("draft", 10, ProductUnavailable),
        ("archived", 10, ProductUnavailable),
    ],
)
async def test_one_failing_item_reserves_nothing(
    sessions: async_sessionmaker[AsyncSession],
    state: str,
    stock_level: int,
    error: type[FailedPrecondition],
) -> None:
    plenty = await _product(sessions, 10)
    short = await _product(sessions, stock_level, state)
    order = uuid4()
    with pytest.raises(error) as raised:
        await _stock(sessions).reserve(
            order, [ReservationItem(plenty, 4), ReservationItem(short, 2)]
        )
    assert raised.value.metadata["product"] == f"products/{short}"
    assert await _stock_of(sessions, plenty) == 10
    assert await SqlReservationQueries(sessions).get_by_order(order) is None
    assert await _events(sessions, "StockReserved") == []


async def test_an_unknown_product_is_not_found_and_nothing_is_reserved(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    lamp = await _product(sessions, 10)
    with pytest.raises(ProductNotFound):
        await _stock(sessions).reserve(
            uuid4(), [ReservationItem(lamp, 1), ReservationItem(uuid4(), 1)]
        )
    assert await _stock_of(sessions, lamp) == 10


async def test_fifty_concurrent_reservations_of_ten_units_reserve_exactly_ten(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    lamp = await _product(sessions, 10)
    other = await _product(sessions, 1000)
    stock = _stock(sessions)

    async def one(i: int) -> bool:
        items = [ReservationItem(lamp, 1), ReservationItem(other, 1)]
        try:
            await stock.reserve(uuid4(), items[:: 1 if i % 2 else -1])
        except InsufficientStock:
            return False
        return True

    results = await asyncio.gather(*(one(i) for i in range(50)))
    assert sum(results) == 10
    assert await _stock_of(sessions, lamp) == 0
    assert await _stock_of(sessions, other) == 990
    async with sessions() as session:
        held = await session.scalar(
            text("SELECT coalesce(sum(quantity), 0) FROM reservation_items WHERE product_id = :p"),
            {"p": lamp},
        )
    assert held == 10


async def test_the_same_order_racing_itself_reserves_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    lamp = await _product(sessions, 10)
    stock = _stock(sessions)
    order = uuid4()
    reservations = await asyncio.gather(
        *(stock.reserve(order, [ReservationItem(lamp, 3)]) for _ in range(5))
    )
    assert len({reservation.id for reservation in reservations}) == 1
    assert await _stock_of(sessions, lamp) == 7
    with pytest.raises(ReservationMismatch):
        await stock.reserve(order, [ReservationItem(lamp, 4)])


async def test_release_returns_stock_once_and_commit_keeps_it_sold(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    lamp = await _product(sessions, 10)
    stock = _stock(sessions)
    released = await stock.reserve(uuid4(), [ReservationItem(lamp, 4)])
    sold = await stock.reserve(uuid4(), [ReservationItem(lamp, 5)])
    for _ in range(2):
        assert (await stock.release(released.id)).state is ReservationState.RELEASED
        assert (await stock.commit(sold.id)).state is ReservationState.COMMITTED
    assert await _stock_of(sessions, lamp) == 5
    with pytest.raises(ReservationStateInvalid):
        await stock.commit(released.id)
    with pytest.raises(ReservationStateInvalid):
        await stock.release(sold.id)
    assert len(await _events(sessions, "StockReleased")) == 1
    assert len(await _events(sessions, "StockCommitted")) == 1


async def test_sweepers_in_two_processes_return_expired_stock_once(
    sessions: async_sessionmaker[AsyncSession], migrated_database: str
) -> None:
    lamp = await _product(sessions, 100)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    past = _stock(sessions, clock=lambda: an_hour_ago)
    for _ in range(20):
        await past.reserve(uuid4(), [ReservationItem(lamp, 2)])
    kept = await _stock(sessions).reserve(uuid4(), [ReservationItem(lamp, 1)])
    assert await _stock_of(sessions, lamp) == 59
    command = [sys.executable, "-m", "services.catalog.tests.integration.sweeper_child"]
    children = [
        await asyncio.create_subprocess_exec(
            *command, migrated_database, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    counts = []
    for child in children:
        out, _ = await asyncio.wait_for(child.communicate(), timeout=120)
        assert child.returncode == 0
        counts.append(int(out.decode().strip()))
    assert sum(counts) == 20
    assert await _stock_of(sessions, lamp) == 99
    assert len(await _events(sessions, "StockReleased")) == 20
    async with sessions() as session:
        states: dict[str, int] = dict(
            (
                await session.execute(
                    text("SELECT state, count(*) FROM reservations GROUP BY state")
                )
            ).all()
        )
    assert states == {"expired": 20, "held": 1}
    assert (await _stock(sessions).release(kept.id)).state is ReservationState.RELEASED
