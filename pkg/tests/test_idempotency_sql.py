"""``pkg.idempotency_sql.insert_once`` against a real PostgreSQL: of creates with one
``request_id`` one wins and the others get its key; an expired key is replaced; other
unique violations are raised with the transaction still usable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import DateTime, ForeignKey, Text, Uuid, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pkg.db import create_engine, session_factory
from pkg.idempotency import IdempotencyKey
from pkg.idempotency_sql import insert_once
from pkg.orm import service_metadata
from pkg.tests._scratch import scratch_database

pytestmark = pytest.mark.integration
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(hours=1)


class _Base(DeclarativeBase):
    metadata = service_metadata()


class _Thing(_Base):
    __tablename__ = "things"
    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class _ThingKey(_Base):
    __tablename__ = "thing_keys"
    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    request_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text)
    thing_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("things.id", ondelete="CASCADE"))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expire_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def _to_key(row: _ThingKey) -> IdempotencyKey:
    return IdempotencyKey(
        scope=row.scope,
        request_id=str(row.request_id),
        fingerprint=row.fingerprint,
        resource_id=str(row.thing_id),
        create_time=row.create_time,
        expire_time=row.expire_time,
    )


def _to_row(key: IdempotencyKey) -> _ThingKey:
    return _ThingKey(
        scope=key.scope,
        request_id=UUID(key.request_id),
        fingerprint=key.fingerprint,
        thing_id=UUID(key.resource_id),
        create_time=key.create_time,
        expire_time=key.expire_time,
    )


class _Create:
    """One create: a thing named ``name`` under ``request_id`` (``None``: no key) at
    ``now``."""

    def __init__(
        self, request_id: str | None, *, name: str | None = None, now: datetime = T0
    ) -> None:
        self.thing = _Thing(id=uuid4(), name=name or f"thing {uuid4()}")
        self.key = (
            None
            if request_id is None
            else IdempotencyKey.new(
                scope="auth",
                request_id=request_id,
                fingerprint="f" * 64,
                resource_id=str(self.thing.id),
                now=now,
                ttl=TTL,
            )
        )

    async def run(self, session: AsyncSession, *, sweep: int = 0) -> IdempotencyKey | None:
        key_row = None if self.key is None else _to_row(self.key)
        return await insert_once(session, self.thing, key_row, _to_key, sweep=sweep)


@pytest.fixture(scope="module")
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "agora_idempotency", _Base.metadata) as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=8)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE things, thing_keys"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine, timeout=10)


async def _committed(
    sessions: async_sessionmaker[AsyncSession], create: _Create, *, sweep: int = 0
) -> IdempotencyKey | None:
    async with sessions.begin() as session:
        return await create.run(session, sweep=sweep)


async def _blocked(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Return once a backend of this database waits for a lock; ``TimeoutError`` after 5 s.
    Each look is a transaction of its own (PostgreSQL keeps one view of
    ``pg_stat_activity`` for a transaction)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(5):
        while True:
            async with sessions() as session:
                if await session.scalar(waiting):
                    return
            await asyncio.sleep(0.01)


async def _things(sessions: async_sessionmaker[AsyncSession]) -> set[UUID]:
    async with sessions() as session:
        return set((await session.scalars(select(_Thing.id))).all())


async def _keys(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """request_id -> resource_id of every stored key."""
    async with sessions() as session:
        rows = (await session.scalars(select(_ThingKey))).all()
        return {str(row.request_id): str(row.thing_id) for row in rows}


async def test_concurrent_creates_with_one_request_id_have_one_winner(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    request_id = str(uuid4())
    creates = [_Create(request_id) for _ in range(6)]
    results = await asyncio.gather(*(_committed(sessions, c) for c in creates))
    winners = [c for c, held in zip(creates, results, strict=True) if held is None]
    assert len(winners) == 1
    assert [held for held in results if held is not None] == [winners[0].key] * 5
    assert await _things(sessions) == {winners[0].thing.id}
    assert await _keys(sessions) == {request_id: str(winners[0].thing.id)}


async def test_a_create_waits_for_the_uncommitted_holder_and_gets_its_key(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    request_id = str(uuid4())
    first, second = _Create(request_id), _Create(request_id)
    async with sessions.begin() as session:
        assert await first.run(session) is None
        waiting = asyncio.create_task(_committed(sessions, second))
        await _blocked(sessions)
    assert await waiting == first.key
    assert await _things(sessions) == {first.thing.id}


async def test_a_holder_that_rolls_back_leaves_the_key_to_the_waiting_create(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    request_id = str(uuid4())
    first, second = _Create(request_id), _Create(request_id)
    async with sessions() as session:
        assert await first.run(session) is None
        waiting = asyncio.create_task(_committed(sessions, second))
        await _blocked(sessions)
        await session.rollback()
    assert await waiting is None
    assert await _keys(sessions) == {request_id: str(second.thing.id)}


async def test_a_live_key_answers_a_later_create_which_stores_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    request_id = str(uuid4())
    first, later = _Create(request_id), _Create(request_id, now=T0 + TTL / 2)
    assert await _committed(sessions, first) is None
    assert await _committed(sessions, later) == first.key
    assert await _things(sessions) == {first.thing.id}


@pytest.mark.parametrize("after", [TTL, TTL * 2], ids=["at-expiry", "after-expiry"])
async def test_an_expired_key_is_replaced(
    sessions: async_sessionmaker[AsyncSession], after: timedelta
) -> None:
    request_id = str(uuid4())
    first, later = _Create(request_id), _Create(request_id, now=T0 + after)
    assert await _committed(sessions, first) is None
    assert await _committed(sessions, later) is None
    assert await _things(sessions) == {first.thing.id, later.thing.id}
    assert await _keys(sessions) == {request_id: str(later.thing.id)}


@pytest.mark.parametrize(("sweep", "left"), [(0, 3), (2, 1), (10, 0)])
async def test_a_sweep_deletes_other_expired_keys_up_to_its_limit(
    sessions: async_sessionmaker[AsyncSession], sweep: int, left: int
) -> None:
    for _ in range(3):
        await _committed(sessions, _Create(str(uuid4())))
    live = _Create(str(uuid4()), now=T0 + TTL)
    await _committed(sessions, live)
    assert live.key is not None
    await _committed(sessions, _Create(str(uuid4()), now=T0 + TTL * 3 / 2), sweep=sweep)
    keys = await _keys(sessions)
    assert live.key.request_id in keys
    assert len(keys) == 2 + left


@pytest.mark.parametrize("keyed", [True, False], ids=["with-key", "without-key"])
async def test_another_unique_violation_is_raised_and_the_transaction_goes_on(
    sessions: async_sessionmaker[AsyncSession], keyed: bool
) -> None:
    assert await _committed(sessions, _Create(str(uuid4()), name="taken")) is None
    clash = _Create(str(uuid4()) if keyed else None, name="taken")
    async with sessions.begin() as session:
        with pytest.raises(IntegrityError, match="things_name_key"):
            await clash.run(session)
        assert await session.scalar(select(func.count()).select_from(_Thing)) == 1
        assert await session.scalar(select(func.count()).select_from(_ThingKey)) == 1


async def test_a_concurrent_holder_whose_record_is_expired_is_no_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    request_id = str(uuid4())
    stale, second = _Create(request_id, now=T0 - TTL * 2), _Create(request_id)
    async with sessions.begin() as session:
        assert await stale.run(session) is None
        waiting = asyncio.create_task(_committed(sessions, second))
        await _blocked(sessions)
    with pytest.raises(IntegrityError, match="thing_keys_pkey"):
        await waiting
    assert await _things(sessions) == {stale.thing.id}
