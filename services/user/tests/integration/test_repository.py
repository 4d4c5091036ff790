"""``SqlUserRepository`` against real PostgreSQL: round trips, uniqueness, idempotency,
optimistic concurrency and keyset pagination."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from pkg.db import Reader, create_engine, session_factory
from pkg.idempotency import IdempotencyKey
from services.user.adapters.orm import IdempotencyKeyRow, UserRow
from services.user.adapters.repository import SqlUserRepository
from services.user.domain import Email, EmailTaken, Role, User, UserNotFound
from services.user.service import PageCursor
from services.user.tests.conftest import random_email

pytestmark = pytest.mark.integration
T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database, pool_size=4)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE users CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture
async def repo(engine: AsyncEngine, migrated_database: str) -> AsyncIterator[SqlUserRepository]:
    reader = Reader(migrated_database, min_size=1, max_size=4)
    yield SqlUserRepository(session_factory(engine), reader)
    await reader.close()


async def _count(engine: AsyncEngine, table: type[UserRow] | type[IdempotencyKeyRow]) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


def _user(email: str | None = None, *, at: datetime = T0, user_id: UUID | None = None,
          roles: frozenset[Role] = frozenset({Role.CUSTOMER, Role.PROVIDER})) -> User:
    return User(id=user_id or uuid4(), email=Email.parse(email or random_email()),
                display_name="Ada", roles=roles, password_hash="$argon2id$fake",
                create_time=at, update_time=at)


async def test_user_round_trips_and_is_found_by_email_in_any_case(
        repo: SqlUserRepository) -> None:
    user = _user("Ada.Lovelace@Example.com")
    assert await repo.add(user) is None
    stored = await repo.get(user.id)
    assert stored is not None
    assert (stored.email.value, stored.display_name, stored.roles, stored.password_hash,
            stored.create_time, stored.version) == (
        "Ada.Lovelace@Example.com", "Ada", user.roles, user.password_hash, T0, 1)
    assert await repo.get_by_email(Email.parse("ADA.LOVELACE@example.COM")) == user
    assert await repo.get(uuid4()) is None


def _key(user: User, request_id: str | None = None, *, scope: str = "auth",
         fingerprint: str = "f" * 64) -> IdempotencyKey:
    return IdempotencyKey.new(scope=scope, request_id=request_id or str(uuid4()),
                              fingerprint=fingerprint, resource_id=str(user.id),
                              now=user.create_time, ttl=timedelta(hours=24))


async def test_email_is_unique_regardless_of_case(repo: SqlUserRepository,
                                                  engine: AsyncEngine) -> None:
    await repo.add(_user("ada@example.com"))
    again = _user("ADA@EXAMPLE.COM")
    with pytest.raises(EmailTaken):
        await repo.add(again, key=_key(again))
    assert await _count(engine, UserRow) == 1
    assert await _count(engine, IdempotencyKeyRow) == 0


async def test_a_held_key_writes_nothing_and_returns_the_holder(
        repo: SqlUserRepository, engine: AsyncEngine) -> None:
    first, second = _user(), _user()
    key = _key(first)
    assert await repo.add(first, key=key) is None
    assert await repo.add(second, key=_key(second, key.request_id)) == key
    assert await repo.get_idempotency_key("auth", key.request_id) == key
    assert await repo.get_idempotency_key("cli", key.request_id) is None
    assert await _count(engine, UserRow) == 1


async def test_concurrent_creates_with_one_key_store_one_user(
        repo: SqlUserRepository, engine: AsyncEngine) -> None:
    request_id = str(uuid4())
    email = random_email()
    users = [_user(email) for _ in range(4)]
    results = await asyncio.gather(*(repo.add(u, key=_key(u, request_id)) for u in users))
    winners = [u for u, held in zip(users, results, strict=True) if held is None]
    assert len(winners) == 1
    assert {held.resource_id for held in results if held is not None} == {str(winners[0].id)}
    assert await _count(engine, UserRow) == 1


async def test_concurrent_creates_with_one_email_let_one_win(
        repo: SqlUserRepository, engine: AsyncEngine) -> None:
    email = random_email()
    users = [_user(email) for _ in range(4)]
    results = await asyncio.gather(*(repo.add(u, key=_key(u)) for u in users),
                                   return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert sum(isinstance(r, EmailTaken) for r in results) == 3
    assert await _count(engine, UserRow) == 1
    assert await _count(engine, IdempotencyKeyRow) == 1


async def test_save_writes_only_over_the_expected_version(repo: SqlUserRepository) -> None:
    user = _user()
    await repo.add(user)
    renamed = user.renamed("Countess", T0 + timedelta(seconds=5))
    assert await repo.save(renamed, expected_version=1)
    assert not await repo.save(renamed.renamed("Stale", T0), expected_version=1)
    stored = await repo.get(user.id)
    assert stored is not None
    assert (stored.display_name, stored.version, stored.update_time) == (
        "Countess", 2, T0 + timedelta(seconds=5))
    with pytest.raises(UserNotFound):
        await repo.save(replace(renamed, id=uuid4()), expected_version=1)


async def test_password_hash_is_replaced_without_a_new_version(
        repo: SqlUserRepository) -> None:
    user = _user()
    await repo.add(user)
    await repo.set_password_hash(user.id, "$argon2id$new")
    stored = await repo.get(user.id)
    assert stored is not None and (stored.password_hash, stored.version) == ("$argon2id$new", 1)


async def test_keyset_pages_are_newest_first_with_ties_broken_by_id(
        repo: SqlUserRepository) -> None:
    instants = [T0 + timedelta(minutes=m) for m in (0, 1, 1, 1, 2, 3, 3)]
    for at in instants:
        await repo.add(_user(at=at))
    expected = sorted([u async for u in _all(repo)], key=lambda u: (u.create_time, u.id),
                      reverse=True)
    pages: list[list[User]] = []
    after: PageCursor | None = None
    while True:
        page = await repo.list_newest(3, after)
        if not page:
            break
        pages.append(page)
        after = PageCursor(page[-1].create_time, page[-1].id)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [u.id for p in pages for u in p] == [u.id for u in expected]


async def _all(repo: SqlUserRepository) -> AsyncIterator[User]:
    for user in await repo.list_newest(1000):
        yield user
