"""The catalog service's PostgreSQL adapters: round trip, idempotency keys, keyset order,
row-locked updates, the outbox rows a commit writes and the inbox's once-only counting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from agora.catalog.v1 import catalog_events_pb2
from pkg.db import create_engine, session_factory
from pkg.events import OUTBOX, open_envelope
from pkg.idempotency import IdempotencyKey
from services.catalog.adapters.repository import SqlCatalogQueries
from services.catalog.app import units_of_work
from services.catalog.domain import Product
from services.catalog.service import PageCursor, Products, Statistics
from services.catalog.tests.fakes import FakeAccounts, FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE products, outbox, inbox, statistics CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def queries(sessions: async_sessionmaker[AsyncSession]) -> SqlCatalogQueries:
    return SqlCatalogQueries(sessions)


def _new(clock: FakeClock, display_name: str = "A") -> Product:
    return Product.create(id=uuid4(), display_name=display_name, now=clock())


async def _add(
    sessions: async_sessionmaker[AsyncSession], product: Product, key: IdempotencyKey | None = None
) -> IdempotencyKey | None:
    async with units_of_work(sessions)() as uow:
        held = await uow.repositories.products.add(product, key=key)
        await uow.commit()
    return held


async def test_a_stored_product_reads_back_equal(
    sessions: async_sessionmaker[AsyncSession], queries: SqlCatalogQueries
) -> None:
    product = _new(FakeClock())
    assert await _add(sessions, product) is None
    assert await queries.get(product.id) == product
    assert await queries.get(uuid4()) is None


async def test_a_live_key_held_by_another_create_is_returned(
    sessions: async_sessionmaker[AsyncSession], queries: SqlCatalogQueries
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
    sessions: async_sessionmaker[AsyncSession], queries: SqlCatalogQueries
) -> None:
    clock = FakeClock()
    stored = [_new(clock, f"n{i}") for i in range(3)]
    for product in stored:
        await _add(sessions, product)
    first = await queries.list_newest(2)
    assert [w.id for w in first] == [stored[2].id, stored[1].id]
    rest = await queries.list_newest(2, PageCursor(first[-1].create_time, first[-1].id))
    assert [w.id for w in rest] == [stored[0].id]


async def test_create_and_update_commit_their_events_to_the_outbox(
    sessions: async_sessionmaker[AsyncSession], queries: SqlCatalogQueries
) -> None:
    products = Products(queries, units_of_work(sessions), FakeAccounts(), clock=FakeClock())
    created = await products.create_product(display_name="Outboxed")
    updated = await products.update_product(
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
        ("agora.catalog.v1.ProductCreated", f"products/{created.id}"),
        ("agora.catalog.v1.ProductUpdated", f"products/{created.id}"),
    ]
    payload = catalog_events_pb2.ProductUpdated()
    assert open_envelope(rows[1].envelope).payload.Unpack(payload)
    assert (payload.display_name, list(payload.changed_fields)) == ("Renamed", ["display_name"])


async def test_a_redelivered_event_is_counted_once(
    sessions: async_sessionmaker[AsyncSession], queries: SqlCatalogQueries
) -> None:
    statistics = Statistics(queries, units_of_work(sessions))
    before = await statistics.created_count()
    event_id = str(uuid4())
    assert await statistics.count_created(event_id=event_id) is True
    assert await statistics.count_created(event_id=event_id) is False
    assert await statistics.count_created(event_id=str(uuid4())) is True
    assert await statistics.created_count() - before == 2
