"""``pkg.db`` against a real PostgreSQL: bounded waits, failures as ``Unavailable``."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import LiteralString
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row, tuple_row
from sqlalchemy import Integer, Text, Uuid, any_, bindparam, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pkg import errors
from pkg.config import normalise_database_url
from pkg.db import (
    ANSWER_MARGIN,
    CALLER_ATTEMPTS,
    Reader,
    budget,
    compile_query,
    create_engine,
    database_probe,
    session_factory,
)
from pkg.edge._routes import RETRIES
from pkg.obs import remaining, request_context
from pkg.testing import FaultyProxy

pytestmark = pytest.mark.integration
SECRET = "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0LWhhc2g"


def _via(url: str, port: int) -> str:
    parts = urlsplit(normalise_database_url(url))
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host).geturl()


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[FaultyProxy]:
    parts = urlsplit(postgres_url)
    async with FaultyProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        yield proxy


async def _select(sessions: async_sessionmaker[AsyncSession], sql: str = "SELECT 1") -> object:
    async with sessions() as session:
        return await session.scalar(text(sql))


@pytest.fixture
async def engine(postgres_url: str, proxy: FaultyProxy) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        _via(postgres_url, proxy.port),
        pool_size=1,
        max_overflow=0,
        connect_timeout=2,
        statement_timeout=0.5,
        pool_timeout=0.3,
    )
    yield engine
    await engine.dispose()


async def test_a_hung_server_is_unavailable_within_the_timeout_and_recovers(
    engine: AsyncEngine, proxy: FaultyProxy
) -> None:
    sessions = session_factory(engine, timeout=0.5)
    assert await _select(sessions) == 1
    proxy.pause()
    with pytest.raises(errors.Unavailable) as caught:
        await _select(sessions)
    assert caught.value.reason == "DATABASE_UNAVAILABLE"
    proxy.resume()
    assert await _select(sessions) == 1


async def test_a_server_that_is_gone_is_unavailable(postgres_url: str) -> None:
    engine = create_engine(_via(postgres_url, 1), connect_timeout=2)
    try:
        with pytest.raises(errors.Unavailable):
            await _select(session_factory(engine))
        with pytest.raises(DBAPIError):
            await database_probe(engine)()
    finally:
        await engine.dispose()


async def test_dropped_connections_are_unavailable_then_replaced(
    engine: AsyncEngine, proxy: FaultyProxy
) -> None:
    sessions = session_factory(engine, timeout=2)
    async with sessions() as session:
        assert await session.scalar(text("SELECT 1")) == 1
        proxy.cut()
        with pytest.raises(DBAPIError):
            await session.scalar(text("SELECT 2"))
    assert await _select(sessions) == 1


async def test_statement_timeout_cancels_a_slow_statement(engine: AsyncEngine) -> None:
    with pytest.raises(errors.Unavailable):
        await _select(session_factory(engine), "SELECT pg_sleep(3)")


async def test_a_full_pool_is_unavailable_after_the_pool_timeout(engine: AsyncEngine) -> None:
    sessions = session_factory(engine, timeout=2)
    async with sessions() as holder:
        await holder.scalar(text("SELECT 1"))
        with pytest.raises(errors.Unavailable):
            await _select(sessions)


async def test_errors_never_carry_bound_parameters(engine: AsyncEngine) -> None:
    with pytest.raises(DBAPIError) as caught:
        async with session_factory(engine)() as session:
            await session.execute(
                text("SELECT CAST(:bad AS integer), CAST(:hash AS text)"),
                {"bad": "x", "hash": SECRET},
            )
    assert SECRET not in str(caught.value)
    assert "c2VjcmV0" not in str(caught.value)


@pytest.fixture
async def reads(postgres_url: str, proxy: FaultyProxy) -> AsyncIterator[Reader]:
    reader = Reader(
        _via(postgres_url, proxy.port),
        min_size=1,
        max_size=1,
        connect_timeout=2,
        statement_timeout=0.5,
        pool_timeout=0.3,
        timeout=2,
    )
    yield reader
    await reader.close()


async def _one(reader: Reader, sql: LiteralString = "SELECT 1") -> object:
    row = await reader.first(sql, (), tuple_row)
    return None if row is None else row[0]


async def test_a_read_is_a_server_side_prepared_statement(reads: Reader) -> None:
    assert await _one(reads, "SELECT 41 + 1") == 42
    assert (
        await _one(
            reads, "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT 41 + 1'"
        )
        == 1
    )


async def test_a_read_binds_its_parameters(reads: Reader) -> None:
    row = await reads.first("SELECT %s::int + %s::int AS total", (40, 2), dict_row)
    assert row == {"total": 42}


async def test_all_rows_of_a_compiled_statement_with_values_bound_later(reads: Reader) -> None:
    numbers = select(
        func.generate_series(1, bindparam("top", type_=Integer)).label("n"),
        literal(["a", "b"], ARRAY(Text)).label("tags"),
    )
    query = compile_query(numbers)
    assert query.params["top"] is None
    rows = await reads.all(query.sql, query.bind(top=3), tuple_row, prepare=None)
    assert rows == [(1, ["a", "b"]), (2, ["a", "b"]), (3, ["a", "b"])]
    assert await reads.all(query.sql, query.bind(top=0), tuple_row) == []
    with pytest.raises(KeyError):
        query.bind(bottom=1)


def test_a_compiled_statement_converts_values_by_their_type() -> None:
    uuids = compile_query(
        select(literal(1)).where(literal(True) == any_(bindparam("ids", type_=ARRAY(Uuid))))
    )
    assert "%(ids)s" in uuids.sql and "%(" in uuids.sql
    one = UUID("12345678-1234-5678-1234-567812345678")
    assert uuids.bind(ids=(one,))["ids"] == [one]  # ARRAY's processor makes a list


async def test_reads_on_one_connection_share_a_cursor_and_keep_their_row_factories(
    reads: Reader,
) -> None:
    # min_size = max_size = 1: every read borrows the same connection.
    first = await reads.first("SELECT 1 AS one", (), dict_row)
    assert await reads.first("SELECT 2 AS two", (), tuple_row) == (2,)
    assert await reads.first("SELECT 3 AS three", (), dict_row) == {"three": 3}
    assert first == {"one": 1}
    assert await reads.first("SELECT 1 WHERE false", (), tuple_row) is None
    connection = await reads._pool.getconn()
    try:
        assert connection.reader_cursor is not None  # type: ignore[attr-defined]
    finally:
        await reads._pool.putconn(connection)


async def test_a_read_on_a_dropped_connection_is_retried_on_a_fresh_one(
    reads: Reader, proxy: FaultyProxy
) -> None:
    assert await _one(reads) == 1
    proxy.cut()
    assert await _one(reads, "SELECT 2") == 2


async def test_a_read_from_a_hung_server_is_unavailable_within_the_timeout(
    postgres_url: str, proxy: FaultyProxy
) -> None:
    reader = Reader(
        _via(postgres_url, proxy.port),
        min_size=1,
        max_size=1,
        connect_timeout=2,
        statement_timeout=5,
        pool_timeout=0.3,
        timeout=0.5,
    )
    try:
        assert await _one(reader) == 1
        proxy.pause()
        with pytest.raises(errors.Unavailable) as caught:
            await _one(reader)
        assert caught.value.reason == "DATABASE_UNAVAILABLE"
        proxy.resume()
        assert await _one(reader, "SELECT 3") == 3
    finally:
        await reader.close()


async def test_a_read_from_a_server_that_is_gone_is_unavailable(postgres_url: str) -> None:
    reader = Reader(
        _via(postgres_url, 1), min_size=1, max_size=1, connect_timeout=2, pool_timeout=0.3
    )
    try:
        with pytest.raises(errors.Unavailable) as caught:
            await _one(reader)
        assert caught.value.reason == "DATABASE_UNAVAILABLE"
    finally:
        await reader.close()


async def test_a_failed_read_never_carries_its_parameters(reads: Reader) -> None:
    with pytest.raises(psycopg.DataError) as caught:
        await reads.first("SELECT %s::int, %s::text", ("x", SECRET), tuple_row)
    assert SECRET not in str(caught.value)
    assert await _one(reads) == 1


async def test_a_transaction_after_the_server_dropped_every_connection_succeeds(
    engine: AsyncEngine, proxy: FaultyProxy
) -> None:
    sessions = session_factory(engine, timeout=2)
    assert await _select(sessions) == 1
    proxy.cut()
    await asyncio.sleep(0)  # the proxy's transports close their sockets on the next turn
    assert await _select(sessions, "SELECT 2") == 2


DEADLINE = 4.5
"""Seconds of the incoming deadline in the bounded-wait tests (a third is the budget)."""


def test_three_attempts_that_use_their_whole_budget_end_before_the_deadline() -> None:
    assert CALLER_ATTEMPTS == RETRIES + 1  # the edge's first try and its retries
    with request_context(deadline=time.monotonic() + 5.0):
        share = budget(30.0)
        left = remaining()
    assert share is not None and left is not None
    assert CALLER_ATTEMPTS * (share + 0.1) < left  # 0.1 s: the second cancellation
    assert budget(0.2) == 0.2 and budget(None) is None
    with request_context(deadline=time.monotonic() + ANSWER_MARGIN):
        assert budget(30.0) == 0.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listening socket is never accepted from: the kernel completes the TCP
    handshake, then nothing answers (a hung server, or a full listen queue)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound but not listening, held for the test: every connection is refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


async def _left_when_unavailable(work: Callable[[], Awaitable[object]]) -> float:
    """Seconds of a ``DEADLINE`` deadline still left when ``work`` raised ``Unavailable``."""
    with request_context(deadline=time.monotonic() + DEADLINE):
        with pytest.raises(errors.Unavailable) as caught:
            await work()
        left = remaining()
    assert caught.value.reason == "DATABASE_UNAVAILABLE"
    assert left is not None
    return left


@pytest.mark.parametrize("port", ["silent_port", "refusing_port"])
async def test_a_read_that_cannot_connect_is_unavailable_with_time_for_the_retries(
    postgres_url: str, port: str, request: pytest.FixtureRequest
) -> None:
    # Neither the connect timeout nor the pool timeout ends the wait: only the deadline.
    reader = Reader(
        _via(postgres_url, request.getfixturevalue(port)),
        min_size=1,
        max_size=1,
        connect_timeout=10,
        pool_timeout=10,
    )
    try:
        left = await _left_when_unavailable(lambda: _one(reader))
    finally:
        await reader.close()
    assert left > DEADLINE / 2  # room for the edge's retries on other workers


async def test_a_session_that_cannot_connect_is_unavailable_with_time_for_the_retries(
    postgres_url: str, silent_port: int
) -> None:
    engine = create_engine(_via(postgres_url, silent_port), connect_timeout=10, pool_timeout=10)
    try:
        left = await _left_when_unavailable(lambda: _select(session_factory(engine)))
    finally:
        await engine.dispose()
    assert left > DEADLINE / 2


async def test_a_read_from_a_hung_server_is_unavailable_with_time_for_the_retries(
    postgres_url: str, proxy: FaultyProxy
) -> None:
    reader = Reader(
        _via(postgres_url, proxy.port),
        min_size=1,
        max_size=1,
        statement_timeout=30,
        pool_timeout=10,
    )
    try:
        assert await _one(reader) == 1
        proxy.pause()
        left = await _left_when_unavailable(lambda: _one(reader))
    finally:
        await reader.close()
    assert left > DEADLINE / 2


async def _begin_select(sessions: async_sessionmaker[AsyncSession]) -> object:
    async with sessions.begin() as session:
        return await session.scalar(text("SELECT 1"))


async def test_a_transaction_on_a_hung_server_is_unavailable_within_the_timeout(
    engine: AsyncEngine, proxy: FaultyProxy
) -> None:
    sessions = session_factory(engine, timeout=0.5)
    assert await _begin_select(sessions) == 1
    proxy.pause()
    with pytest.raises(errors.Unavailable) as caught:
        await asyncio.wait_for(_begin_select(sessions), 3)  # unbounded, it would hang
    assert caught.value.reason == "DATABASE_UNAVAILABLE"
    proxy.resume()
    assert await _begin_select(sessions) == 1


async def test_a_transaction_commits_and_its_own_errors_pass_unchanged(engine: AsyncEngine) -> None:
    sessions = session_factory(engine, timeout=2)
    async with sessions.begin() as session:
        assert session.in_transaction()
        await session.execute(text("SELECT 1"))
    assert not session.in_transaction()
    with pytest.raises(DBAPIError) as caught:
        async with sessions.begin() as session:
            await session.execute(text("SELECT CAST('x' AS integer)"))
    assert not isinstance(caught.value, errors.Unavailable)
    assert await _begin_select(sessions) == 1


async def test_reads_succeed_again_soon_after_a_long_outage(
    postgres_url: str, proxy: FaultyProxy
) -> None:
    reader = Reader(
        _via(postgres_url, proxy.port), min_size=1, max_size=1, pool_timeout=0.3, timeout=2
    )
    try:
        assert await _one(reader) == 1
        await proxy.stop()
        down_until = time.monotonic() + 4.0  # psycopg_pool's backoff grows to 4 s by then
        while time.monotonic() < down_until:
            with pytest.raises(errors.Unavailable):
                await _one(reader)
            await asyncio.sleep(0.1)
        await proxy.start()
        back = time.monotonic()
        while True:
            try:
                assert await _one(reader) == 1
                break
            except errors.Unavailable:
                await asyncio.sleep(0.05)
        recovered = time.monotonic() - back
    finally:
        await reader.close()
    assert recovered < 1.5, f"reads failed {recovered:.2f} s after the server returned"


async def test_a_backend_the_server_ended_is_replaced_at_checkout_without_a_ping(
    postgres_url: str,
) -> None:
    """The server ends the pooled connection's backend (as a restart does to all of them):
    the next transaction runs on a fresh connection instead of failing, while a healthy
    pooled connection is reused."""
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    sessions = session_factory(engine, timeout=5)
    try:
        first = await _select(sessions, "SELECT pg_backend_pid()")
        assert await _select(sessions, "SELECT pg_backend_pid()") == first
        server = normalise_database_url(postgres_url).replace("postgresql+psycopg", "postgresql")
        async with await psycopg.AsyncConnection.connect(server, autocommit=True) as admin:
            await admin.execute("SELECT pg_terminate_backend(%s)", (first,))
            for _ in range(200):  # the backend is gone once it no longer shows
                if not (
                    await (
                        await admin.execute(
                            "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (first,)
                        )
                    ).fetchall()
                ):
                    break
                await asyncio.sleep(0.01)
        async with sessions.begin() as session:
            second = await session.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await engine.dispose()
