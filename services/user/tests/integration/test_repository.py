"""``SqlUserQueries`` and ``SqlUserRepository`` (in ``SqlUnitOfWork``) against real
PostgreSQL: round trips, uniqueness, idempotency, row locks, keyset pagination, and the
events committed to the outbox with the state (or not at all)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.events.v1 import envelope_pb2
from agora.user.v1 import user_events_pb2
from pkg.db import Reader, create_engine, session_factory
from pkg.events import OUTBOX
from pkg.idempotency import IdempotencyKey
from services.user.adapters.orm import IdempotencyKeyRow, UserRow
from services.user.adapters.repository import SqlUserQueries
from services.user.app import units_of_work
from services.user.domain import Email, EmailTaken, Role, User
from services.user.service import PageCursor
from services.user.tests.conftest import random_email

pytestmark = pytest.mark.integration
T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database, pool_size=4)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE users, outbox CASCADE"))
    yield engine
    await engine.dispose()


class Store:
    """The queries, and each write in a unit of work of its own (committed when it
    succeeds), as the use cases do."""

    def __init__(self, engine: AsyncEngine, reader: Reader) -> None:
        sessions = session_factory(engine)
        self.queries = SqlUserQueries(sessions, reader)
        self.units = units_of_work(sessions)

    async def get(self, user_id: UUID) -> User | None:
        return await self.queries.get(user_id)

    async def get_by_email(self, email: Email) -> User | None:
        return await self.queries.get_by_email(email)

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        return await self.queries.get_idempotency_key(scope, request_id)

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[User]:
        return await self.queries.list_newest(limit, after)

    async def add(self, user: User, *, key: IdempotencyKey | None = None) -> IdempotencyKey | None:
        async with self.units() as uow:
            held = await uow.repositories.users.add(user, key=key)
            if held is None:
                await uow.commit()
            return held

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        async with self.units() as uow:
            await uow.repositories.users.set_password_hash(user_id, password_hash)
            await uow.commit()


@pytest.fixture
async def repo(engine: AsyncEngine, migrated_database: str) -> AsyncIterator[Store]:
    reader = Reader(migrated_database, min_size=1, max_size=4)
    yield Store(engine, reader)
    await reader.close()


async def _count(engine: AsyncEngine, table: type[UserRow] | type[IdempotencyKeyRow]) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def _outbox(engine: AsyncEngine) -> list[envelope_pb2.Envelope]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(OUTBOX.c.envelope).order_by(OUTBOX.c.sequence))
        return [envelope_pb2.Envelope.FromString(row.envelope) for row in rows]


def _user(
    email: str | None = None,
    *,
    at: datetime = T0,
    user_id: UUID | None = None,
    roles: frozenset[Role] = frozenset({Role.CUSTOMER, Role.PROVIDER}),
) -> User:
    return User.register(
        id=user_id or uuid4(),
        email=Email.parse(email or random_email()),
        display_name="Ada",
        roles=roles,
        password_hash="$argon2id$fake",
        now=at,
    )


async def test_user_round_trips_and_is_found_by_email_in_any_case(repo: Store) -> None:
    user = _user("Ada.Lovelace@Example.com")
    assert await repo.add(user) is None
    stored = await repo.get(user.id)
    assert stored is not None
    assert (
        stored.email.value,
        stored.display_name,
        stored.roles,
        stored.password_hash,
        stored.create_time,
        stored.version,
    ) == ("Ada.Lovelace@Example.com", "Ada", user.roles, user.password_hash, T0, 1)
    assert await repo.get_by_email(Email.parse("ADA.LOVELACE@example.COM")) == user
    assert await repo.get(uuid4()) is None


def _key(
    user: User, request_id: str | None = None, *, scope: str = "auth", fingerprint: str = "f" * 64
) -> IdempotencyKey:
    return IdempotencyKey.new(
        scope=scope,
        request_id=request_id or str(uuid4()),
        fingerprint=fingerprint,
        resource_id=str(user.id),
        now=user.create_time,
        ttl=timedelta(hours=24),
    )


async def test_email_is_unique_regardless_of_case(repo: Store, engine: AsyncEngine) -> None:
    await repo.add(_user("ada@example.com"))
    again = _user("ADA@EXAMPLE.COM")
    with pytest.raises(EmailTaken):
        await repo.add(again, key=_key(again))
    assert await _count(engine, UserRow) == 1
    assert await _count(engine, IdempotencyKeyRow) == 0


async def test_a_held_key_writes_nothing_and_returns_the_holder(
    repo: Store, engine: AsyncEngine
) -> None:
    first, second = _user(), _user()
    key = _key(first)
    assert await repo.add(first, key=key) is None
    assert await repo.add(second, key=_key(second, key.request_id)) == key
    assert await repo.get_idempotency_key("auth", key.request_id) == key
    assert await repo.get_idempotency_key("cli", key.request_id) is None
    assert await _count(engine, UserRow) == 1


async def test_concurrent_creates_with_one_key_store_one_user(
    repo: Store, engine: AsyncEngine
) -> None:
    request_id = str(uuid4())
    email = random_email()
    users = [_user(email) for _ in range(4)]
    results = await asyncio.gather(*(repo.add(u, key=_key(u, request_id)) for u in users))
    winners = [u for u, held in zip(users, results, strict=True) if held is None]
    assert len(winners) == 1
    assert {held.resource_id for held in results if held is not None} == {str(winners[0].id)}
    assert await _count(engine, UserRow) == 1


async def test_concurrent_creates_with_one_email_let_one_win(
    repo: Store, engine: AsyncEngine
) -> None:
    email = random_email()
    users = [_user(email) for _ in range(4)]
    results = await asyncio.gather(
        *(repo.add(u, key=_key(u)) for u in users), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1
    assert sum(isinstance(r, EmailTaken) for r in results) == 3
    assert await _count(engine, UserRow) == 1
    assert await _count(engine, IdempotencyKeyRow) == 1


async def test_a_change_commits_its_event_with_the_state_and_a_rollback_neither(
    repo: Store, engine: AsyncEngine
) -> None:
    user = _user()
    await repo.add(user)
    async with repo.units() as uow:
        current = await uow.repositories.users.get_for_update(user.id)
        assert current is not None and current.events == []
        await uow.repositories.users.save(current.renamed("Countess", T0 + timedelta(1)))
        await uow.commit()
    async with repo.units() as uow:
        current = await uow.repositories.users.get_for_update(user.id)
        assert current is not None
        await uow.repositories.users.save(current.disable(T0 + timedelta(2)))
        # left without commit: rolled back, state and event

    stored = await repo.get(user.id)
    assert stored is not None
    assert (stored.display_name, stored.version, stored.disabled) == ("Countess", 2, False)
    envelopes = await _outbox(engine)
    assert [e.type for e in envelopes] == [
        "agora.user.v1.UserCreated",
        "agora.user.v1.UserProfileUpdated",
    ]
    assert {e.subject for e in envelopes} == {f"users/{user.id}"}
    renamed = user_events_pb2.UserProfileUpdated()
    assert envelopes[1].payload.Unpack(renamed)
    assert (renamed.user, renamed.display_name) == (f"users/{user.id}", "Countess")


async def test_roles_and_state_round_trip(repo: Store) -> None:
    user = _user(roles=frozenset({Role.CUSTOMER}))
    await repo.add(user)
    async with repo.units() as uow:
        changed = user.with_roles(frozenset({Role.PROVIDER}), T0).disable(T0)
        await uow.repositories.users.save(changed)
        await uow.commit()
    stored = await repo.get(user.id)
    listed = await repo.list_newest(1)
    assert stored is not None and stored.roles == {Role.PROVIDER} and stored.disabled
    assert listed[0] == stored and stored.version == 3


async def test_writers_of_one_user_wait_for_each_other(repo: Store) -> None:
    user = _user()
    await repo.add(user)

    async def rename(name: str) -> None:
        async with repo.units() as uow:
            current = await uow.repositories.users.get_for_update(user.id)
            assert current is not None
            await asyncio.sleep(0.05)
            await uow.repositories.users.save(current.renamed(name, T0))
            await uow.commit()

    await asyncio.gather(*(rename(f"Name {i}") for i in range(4)))
    stored = await repo.get(user.id)
    assert stored is not None and stored.version == 5


async def test_password_hash_is_replaced_without_a_new_version(repo: Store) -> None:
    user = _user()
    await repo.add(user)
    await repo.set_password_hash(user.id, "$argon2id$new")
    stored = await repo.get(user.id)
    assert stored is not None and (stored.password_hash, stored.version) == ("$argon2id$new", 1)


async def test_keyset_pages_are_newest_first_with_ties_broken_by_id(repo: Store) -> None:
    instants = [T0 + timedelta(minutes=m) for m in (0, 1, 1, 1, 2, 3, 3)]
    for at in instants:
        await repo.add(_user(at=at))
    expected = sorted(
        [u async for u in _all(repo)], key=lambda u: (u.create_time, u.id), reverse=True
    )
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


async def _all(repo: Store) -> AsyncIterator[User]:
    for user in await repo.list_newest(1000):
        yield user
