"""A tiny producing and consuming service for the event backbone's tests.

``Account`` is an aggregate recording ``Deposited``; ``Accounts`` its repository on a unit
of work's session; ``deposited_to_proto`` the adapter-side mapper (payload
``google.protobuf.Int64Value``, the balance after the deposit); ``record_applied`` a
handler factory whose effect is one ``applied`` row written with the inbox entry.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg
import pytest
from google.protobuf import wrappers_pb2
from google.protobuf.message import Message
from sqlalchemy import Column, Integer, MetaData, Table, Text, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pkg.config import normalise_database_url
from pkg.db import create_engine, session_factory
from pkg.events import Event, EventTypes, Handler, include_event_tables
from pkg.redis import GuardedRedis, create_redis
from pkg.sql_uow import SqlUnitOfWork
from pkg.uow import Aggregate

METADATA = MetaData()
ACCOUNTS = Table(
    "accounts",
    METADATA,
    Column("id", Text, primary_key=True),
    Column("balance", Integer, nullable=False),
)
APPLIED = Table(
    "applied",
    METADATA,
    Column("event_id", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("value", Integer),
)
include_event_tables(METADATA)
KIT_EVENTS = EventTypes.of(wrappers_pb2.Int64Value)
"""The kit's payload is no contract's event: its units of work admit it by name."""


@dataclass(frozen=True)
class Deposited:
    account_id: str
    amount: int
    balance: int


@dataclass
class Account:
    id: str
    balance: int = 0
    events: list[object] = field(default_factory=list)

    def deposit(self, amount: int) -> None:
        self.balance += amount
        self.events.append(Deposited(self.id, amount, self.balance))


class Accounts:
    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self._session, self._seen = session, seen

    async def add(self, account: Account) -> None:
        await self._session.execute(insert(ACCOUNTS).values(id=account.id, balance=account.balance))
        self._seen(account)

    async def get(self, account_id: str) -> Account:
        balance = await self._session.scalar(
            select(ACCOUNTS.c.balance).where(ACCOUNTS.c.id == account_id).with_for_update()
        )
        account = Account(account_id, int(balance or 0))
        self._seen(account)
        return account

    async def save(self, account: Account) -> None:
        await self._session.execute(
            update(ACCOUNTS).where(ACCOUNTS.c.id == account.id).values(balance=account.balance)
        )


def deposited_to_proto(event: object) -> tuple[str, Message]:
    if not isinstance(event, Deposited):
        raise TypeError(f"no contract message for {type(event).__name__}")
    return f"accounts/{event.account_id}", wrappers_pb2.Int64Value(value=event.balance)


def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], source: str
) -> SqlUnitOfWork[Accounts]:
    return SqlUnitOfWork(
        sessions, source=source, mapper=deposited_to_proto, repositories=Accounts, events=KIT_EVENTS
    )


async def deposit(uow: SqlUnitOfWork[Accounts], account_id: str, amounts: list[int]) -> None:
    """Open ``account_id`` (when new) and deposit each amount, one commit per amount."""
    for amount in amounts:
        async with uow:
            if await uow.session.scalar(select(func.count()).where(ACCOUNTS.c.id == account_id)):
                account = await uow.repositories.get(account_id)
            else:
                account = Account(account_id)
                await uow.repositories.add(account)
            account.deposit(amount)
            await uow.repositories.save(account)
            await uow.commit()


def record_applied(uow: SqlUnitOfWork[Accounts]) -> Handler[wrappers_pb2.Int64Value]:
    async def handle(payload: wrappers_pb2.Int64Value, event: Event) -> None:
        async with uow:
            if not await uow.received(event.id):
                return
            await uow.session.execute(
                insert(APPLIED).values(
                    event_id=event.id, subject=event.subject, value=payload.value
                )
            )
            await uow.commit()

    return handle


async def applied(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, int]]:
    async with sessions() as session:
        rows = await session.execute(select(APPLIED.c.event_id, APPLIED.c.subject, APPLIED.c.value))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def via(url: str, port: int) -> str:
    """``url`` with its host and port replaced by ``127.0.0.1:port`` (credentials kept)."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    host = f"127.0.0.1:{port}"
    return parts._replace(netloc=f"{userinfo}@{host}" if userinfo else host).geturl()


@pytest.fixture(scope="module")
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A fresh database with the test tables, ``outbox`` and ``inbox``."""
    name = f"agora_events_{uuid.uuid4().hex[:12]}"
    server = normalise_database_url(postgres_url).replace("postgresql+psycopg", "postgresql")
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as connection:
        await connection.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    url = normalise_database_url(urlsplit(server)._replace(path=f"/{name}").geturl())
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    await engine.dispose()
    yield url
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as connection:
        await connection.execute(f"DROP DATABASE {name} WITH (FORCE)")  # type: ignore[arg-type]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4, connect_timeout=2, pool_timeout=2)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE outbox, inbox, applied, accounts"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine, timeout=5)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[GuardedRedis]:
    client = create_redis(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def source() -> str:
    """A producing service's name of its own per test (streams never collide)."""
    return f"test{uuid.uuid4().hex[:10]}"


async def until(condition: Callable[[], Awaitable[bool]], bound: float) -> None:
    """Poll ``condition`` every 20 ms until it holds; ``TimeoutError`` after ``bound`` s."""
    async with asyncio.timeout(bound):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.02)
