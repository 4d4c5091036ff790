"""The basket service's PostgreSQL adapters: round trip, idempotency keys, keyset order,
row-locked updates, the outbox rows a commit writes and the inbox's once-only counting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from agora.basket.v1 import basket_events_pb2
from pkg.db import create_engine, session_factory
from pkg.events import OUTBOX, open_envelope
from pkg.idempotency import IdempotencyKey
from services.basket.adapters.repository import SqlBasketQueries
from services.basket.app import units_of_work
from services.basket.domain import Basket
from services.basket.service import Baskets, PageCursor, Statistics
from services.basket.tests.fakes import FakeAccounts, FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE baskets, outbox, inbox, statistics CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def queries(sessions: async_sessionmaker[AsyncSession]) -> SqlBasketQueries:
    return SqlBasketQueries(sessions)


def _new(clock: FakeClock, display_name: str = "A") -> Basket:
    return Basket.create(id=uuid4(), display_name=display_name, now=clock())


async def _add(
    sessions: async_sessionmaker[AsyncSession], basket: Basket, key: IdempotencyKey | None = None
) -> IdempotencyKey | None:
    async with units_of_work(sessions)() as uow:
        held = await uow.repositories.baskets.add(basket, key=key)
        await uow.commit()
    return held


async def test_a_stored_basket_reads_back_equal(
    sessions: async_sessionmaker[AsyncSession], queries: SqlBasketQueries
) -> None:
    basket = _new(FakeClock())
    assert await _add(sessions, basket) is None
    assert await queries.get(basket.id) == basket
    assert await queries.get(uuid4()) is None


async def test_a_live_key_held_by_another_create_is_returned(
    sessions: async_sessionmaker[AsyncSession], queries: SqlBasketQueries
) -> None:
    clock = FakeClock()
    first, second = _new(clock), _new(clock)
    key = IdempotencyKey.new(
        scope="s",
        request_id=str(uuid4()),
        fingerprint="f",
        resource_id=str(first.id),
        now=first.create_time,
        ttl=timedelta(hours=1),
    )
    assert await _add(sessions, first, key) is None
    race = IdempotencyKey.new(
        scope="s",
        request_id=key.request_id,
        fingerprint="f",
        resource_id=str(second.id),
        now=second.create_time,
    )
    assert await _add(sessions, second, race) == key
    assert await queries.get(second.id) is None


async def test_list_newest_is_keyset_paged(
    sessions: async_sessionmaker[AsyncSession], queries: SqlBasketQueries
) -> None:
    clock = FakeClock()
    stored = [_new(clock, f"n{i}") for i in range(3)]
    for basket in stored:
        await _add(sessions, basket)
    first = await queries.list_newest(2)
    assert [w.id for w in first] == [stored[2].id, stored[1].id]
    rest = await queries.list_newest(2, PageCursor(first[-1].create_time, first[-1].id))
    assert [w.id for w in rest] == [stored[0].id]


async def test_create_and_update_commit_their_events_to_the_outbox(
    sessions: async_sessionmaker[AsyncSession], queries: SqlBasketQueries
) -> None:
    baskets = Baskets(queries, units_of_work(sessions), FakeAccounts(), clock=FakeClock())
    created = await baskets.create_basket(display_name="Outboxed")
    updated = await baskets.update_basket(
        created.id, display_name="Renamed", fields=["display_name"], etag=created.etag
    )
    assert await queries.get(created.id) == updated
    async with sessions() as session:
        rows = (
            await session.execute(
                select(OUTBOX.c.type, OUTBOX.c.subject, OUTBOX.c.envelope).order_by(
                    OUTBOX.c.sequence
                )
            )
        ).all()
    assert [(row.type, row.subject) for row in rows] == [
        ("agora.basket.v1.BasketCreated", f"baskets/{created.id}"),
        ("agora.basket.v1.BasketUpdated", f"baskets/{created.id}"),
    ]
    payload = basket_events_pb2.BasketUpdated()
    assert open_envelope(rows[1].envelope).payload.Unpack(payload)
    assert (payload.display_name, list(payload.changed_fields)) == ("Renamed", ["display_name"])


async def test_a_redelivered_event_is_counted_once(
    sessions: async_sessionmaker[AsyncSession], queries: SqlBasketQueries
) -> None:
    statistics = Statistics(queries, units_of_work(sessions))
    before = await statistics.created_count()
    event_id = str(uuid4())
    assert await statistics.count_created(event_id=event_id) is True
    assert await statistics.count_created(event_id=event_id) is False
    assert await statistics.count_created(event_id=str(uuid4())) is True
    assert await statistics.created_count() - before == 2
