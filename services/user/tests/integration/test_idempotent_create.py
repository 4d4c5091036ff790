"""CreateUser with a request_id over real PostgreSQL and argon2: replays, reuse, password
proof, scopes, expiry, the sweep of expired keys and concurrent replays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from pkg.db import Reader, create_engine, session_factory
from pkg.idempotency import IdempotencyKeyReused
from services.user.adapters.hashing import Argon2Hasher
from services.user.adapters.orm import IdempotencyKeyRow, UserRow
from services.user.adapters.repository import SqlUserQueries
from services.user.app import units_of_work
from services.user.domain import User
from services.user.service import Accounts
from services.user.tests.conftest import PASSWORD, random_email
from services.user.tests.fakes import FakeClock

pytestmark = pytest.mark.integration
TTL = timedelta(hours=24)


@pytest.fixture
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database, pool_size=10)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE users CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture
async def hasher() -> AsyncIterator[Argon2Hasher]:
    hasher = Argon2Hasher(time_cost=1, memory_cost=64, parallelism=1, workers=2)
    yield hasher
    await hasher.close()


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    yield FakeClock(datetime.now(UTC))


class Registrar:
    def __init__(
        self, engine: AsyncEngine, reader: Reader, hasher: Argon2Hasher, clock: FakeClock
    ) -> None:
        sessions = session_factory(engine)
        self.repo, self.units = SqlUserQueries(sessions, reader), units_of_work(sessions)
        self.hasher, self.clock = hasher, clock

    async def create(self, request_id: UUID, **changes: Any) -> User:
        request = {
            "email": "ada@example.com",
            "password": PASSWORD,
            "display_name": "Ada",
            "scope": "auth",
            **changes,
        }
        accounts = Accounts(self.repo, self.units, self.hasher, clock=self.clock, key_ttl=TTL)
        return await accounts.create_user(request_id=request_id, **request)


@pytest.fixture
async def registrar(
    engine: AsyncEngine, migrated_database: str, hasher: Argon2Hasher, clock: FakeClock
) -> AsyncIterator[Registrar]:
    reader = Reader(migrated_database, min_size=1, max_size=10)
    yield Registrar(engine, reader, hasher, clock)
    await reader.close()


async def _count(engine: AsyncEngine, table: type[UserRow] | type[IdempotencyKeyRow]) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_replay_returns_the_user_and_other_requests_are_refused(
    registrar: Registrar, engine: AsyncEngine
) -> None:
    request_id = uuid4()
    ada = await registrar.create(request_id)
    assert await registrar.create(request_id, email="ADA@example.com") == ada
    for changes in (
        {"email": "eve@example.com"},
        {"display_name": "Eve"},
        {"password": "another long password"},
    ):
        with pytest.raises(IdempotencyKeyReused):
            await registrar.create(request_id, **changes)
    assert await _count(engine, UserRow) == 1


async def test_keys_are_scoped_to_the_caller(registrar: Registrar, engine: AsyncEngine) -> None:
    request_id = uuid4()
    ada = await registrar.create(request_id)
    eve = await registrar.create(request_id, scope="cli", email="eve@example.com")
    assert eve.id != ada.id
    assert await _count(engine, IdempotencyKeyRow) == 2


async def test_an_expired_key_is_replaced_and_expired_keys_are_swept(
    registrar: Registrar, engine: AsyncEngine, clock: FakeClock
) -> None:
    request_id = uuid4()
    ada = await registrar.create(request_id)
    await registrar.create(uuid4(), email=random_email())
    clock.current += TTL
    eve = await registrar.create(request_id, email="eve@example.com")
    assert eve.id != ada.id
    async with engine.connect() as conn:
        keys = (
            await conn.execute(select(IdempotencyKeyRow.request_id, IdempotencyKeyRow.user_id))
        ).all()
    assert keys == [(request_id, eve.id)]


async def test_concurrent_replays_of_one_key_all_get_the_one_user(
    registrar: Registrar, engine: AsyncEngine
) -> None:
    request_id = uuid4()
    results = await asyncio.gather(*(registrar.create(request_id) for _ in range(10)))
    assert len({user.id for user in results}) == 1
    assert await _count(engine, UserRow) == 1
    assert await _count(engine, IdempotencyKeyRow) == 1


async def test_concurrent_different_requests_under_one_key_create_one_user(
    registrar: Registrar, engine: AsyncEngine
) -> None:
    request_id = uuid4()
    results = await asyncio.gather(
        *(registrar.create(request_id, email=random_email()) for _ in range(10)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, User) for r in results) == 1
    assert sum(isinstance(r, IdempotencyKeyReused) for r in results) == 9
    assert await _count(engine, UserRow) == 1
