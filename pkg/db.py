"""PostgreSQL engines whose failures are bounded in time and reported as ``Unavailable``.

``create_engine`` builds an ``AsyncEngine`` (SQLAlchemy 2 asyncio, psycopg 3) with a libpq
``connect_timeout``, a server-side ``statement_timeout``, a bounded pool wait and
``hide_parameters`` (no bound value, such as a password hash, ever reaches a log line or an
exception message).  ``session_factory`` makes sessions whose ``async with`` block is
bounded on the client side too (a hung server, e.g. one stopped with SIGSTOP, never answers a
server-side timeout) and turns connection-class errors into ``pkg.errors.Unavailable``
(reason ``DATABASE_UNAVAILABLE``).

Every wait is bounded by the incoming RPC's deadline too, and ends well before it: a caller
may retry an ``UNAVAILABLE`` with the same deadline (the edge retries a GET up to twice, and
Envoy sends each retry the route's whole timeout again as ``grpc-timeout``, not what is
left of it), so the database work of one attempt gets at most ``1 / CALLER_ATTEMPTS`` of the
time it sees left, less ``ANSWER_MARGIN``.  See docs/adr/0013-dependency-failures-and-drain.md
and docs/adr/0025-database-outage-budget.md.
"""

from __future__ import annotations

import asyncio
import math
import select
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, LiteralString, TypeVar, cast

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import AsyncRowFactory
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import event, exc, make_url, text
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from agora.errors.v1.reasons import SharedReason
from pkg import errors
from pkg.config import DatabaseSettingsMixin, normalise_database_url
from pkg.obs import remaining

REASON = SharedReason.DATABASE_UNAVAILABLE
CALLER_ATTEMPTS = 3
"""Attempts one caller deadline may have to cover: the edge's first try and its
``pkg.edge`` ``RETRIES`` (2) retries of a GET answered ``UNAVAILABLE``, each sent with the
route's whole timeout as ``grpc-timeout``."""
ANSWER_MARGIN = 0.25
"""Seconds of each attempt's share held back for ending the wait (a second cancellation
follows the first after ``_Deadline._AGAIN``), answering ``Unavailable`` and its way back."""
_TIMEOUT_KEY = "agora.db.timeout"
T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any]
"""Bound values of a ``Reader`` statement: positional (``%s``) or named (``%(name)s``)."""


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 5,
    connect_timeout: float = 3.0,
    statement_timeout: float = 5.0,
    pool_timeout: float = 3.0,
    pool_recycle: float = 1800.0,
) -> AsyncEngine:
    """An ``AsyncEngine`` for ``url`` (``postgresql+psycopg://``); connects lazily.

    The pool keeps ``pool_size`` connections plus ``max_overflow`` temporary ones, recycles
    a connection after ``pool_recycle`` seconds and waits at most ``pool_timeout`` seconds
    for a free one; a dropped connection invalidates the whole pool (SQLAlchemy's default).
    Each checkout first looks at the connection's socket without a round trip
    (``_closed_by_server``): a server that restarted or ended the backend has closed it (or
    sent its goodbye), so the pool is invalidated and the checkout gets a fresh connection,
    and a restarted server fails no write (a write in a transaction is not retried); see
    docs/adr/0025-database-outage-budget.md ("Checkout without a ping").  Lone reads use
    ``Reader`` (psycopg directly, one round trip) instead.  ``connect_timeout`` (seconds,
    rounded up to whole seconds as libpq requires, at least 2) bounds establishing a
    connection; ``statement_timeout`` (seconds) is set per connection with
    ``-c statement_timeout=<ms>`` (PostgreSQL cancels longer statements).  Parameters are
    hidden from logs and error messages.  The caller disposes of the engine.
    """
    connect_args: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(connect_timeout)),
        "options": f"-c statement_timeout={int(statement_timeout * 1000)}",
    }
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        hide_parameters=True,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine.pool, "checkout", _check_socket)
    return engine


def _check_socket(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if _closed_by_server(dbapi_connection):
        raise exc.InvalidatePoolError("the server closed the pooled connection")


def _closed_by_server(dbapi_connection: Any) -> bool:
    """Whether an idle pooled connection is gone, judged without a round trip.

    An idle connection has nothing to read: a server that shuts down, restarts or ends
    the backend (``pg_terminate_backend``) sends an ``ErrorResponse`` and closes the
    socket, which makes it readable.  So: broken per psycopg, or readable (a zero-timeout
    ``poll``).  A rare asynchronous message (a ``NOTIFY`` to a listening session, a
    ``ParameterStatus``) is read as gone too and costs a reconnection, never a failure.  A
    peer that vanished without closing (a cut network) is not seen here; the statement
    then fails within the session's deadline, as with a ping.
    """
    connection = getattr(dbapi_connection, "driver_connection", None)
    if not isinstance(connection, psycopg.AsyncConnection):
        return False
    if connection.broken or connection.closed:
        return True
    poller = select.poll()
    poller.register(connection.pgconn.socket, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _unavailable(error: BaseException) -> errors.Unavailable | None:
    if isinstance(error, TimeoutError | exc.TimeoutError):
        return errors.Unavailable("the database did not answer in time; try again", reason=REASON)
    if isinstance(error, exc.OperationalError | exc.InterfaceError) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    ):
        return errors.Unavailable("the database is unavailable; try again", reason=REASON)
    return None


@asynccontextmanager
async def database_errors() -> AsyncIterator[None]:
    """Map connection-class errors raised in the block to ``pkg.errors.Unavailable``.

    Mapped: ``OperationalError`` (refused, reset, ``connect_timeout``, statement cancelled
    by ``statement_timeout``), ``InterfaceError``, a ``DBAPIError`` that invalidated its
    connection, the pool's ``TimeoutError`` and the builtin ``TimeoutError``.  Other errors
    (``IntegrityError`` ...) pass unchanged.  Nothing is logged here: the server's
    ``ErrorInterceptor`` logs one warning line per failed RPC.
    """
    try:
        yield
    except Exception as error:
        mapped = _unavailable(error)
        if mapped is None:
            raise
        raise mapped from error


class _Deadline:
    """Cancels the current task when ``seconds`` have passed, then again every
    ``_AGAIN`` seconds until the block ends: psycopg answers a first cancellation by
    asking the server to cancel the query and waiting up to 10 s for it, which a hung
    server never grants; a second cancellation makes it close the connection at once."""

    _AGAIN = 0.1

    def __init__(self, seconds: float) -> None:
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(seconds, self._fire)
        self._cancels = 0

    def _fire(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._cancels += 1
            self._handle = self._loop.call_later(self._AGAIN, self._fire)

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        self._handle.cancel()
        if not self._cancels or self._task is None:
            return
        for _ in range(self._cancels):
            self._task.uncancel()
        if isinstance(error, asyncio.CancelledError) and not self._task.cancelling():
            raise TimeoutError from error


def budget(timeout: float | None) -> float | None:
    """Seconds the database work of the running request may take from now, or ``None``.

    ``min(timeout, remaining() / CALLER_ATTEMPTS - ANSWER_MARGIN)``, never below 0 (0: no
    time is left, the work ends at once with ``Unavailable``); either bound is left out
    when it is ``None`` (no ``timeout``, or no incoming deadline).  With the edge's 5 s
    route timeout an attempt gets about 1.4 s, so three attempts that each end in
    ``Unavailable`` still answer before the edge gives up (504).
    """
    left = remaining()
    if left is not None:
        share = left / CALLER_ATTEMPTS - ANSWER_MARGIN
        timeout = share if timeout is None else min(timeout, share)
    return None if timeout is None else max(timeout, 0.0)


class GuardedSession(AsyncSession):
    """An ``AsyncSession`` whose ``async with`` block is bounded and mapped.

    The block gets ``budget(timeout)`` seconds (``timeout`` from ``session_factory``, and a
    share of the incoming RPC's remaining time); when that runs out the block is cancelled, the
    connection invalidated rather than rolled back (a hung server would not answer the
    rollback), and ``pkg.errors.Unavailable`` raised.  See ``database_errors`` for the
    mapping of the other failures.
    """

    _agora_deadline: _Deadline | None = None

    async def __aenter__(self) -> GuardedSession:
        limit = budget(self.info.get(_TIMEOUT_KEY))
        self._agora_deadline = None if limit is None else _Deadline(limit)
        return self

    async def __aexit__(self, exc_type: Any, value: Any, traceback: Any) -> None:
        deadline, self._agora_deadline = self._agora_deadline, None
        try:
            try:
                if isinstance(value, asyncio.CancelledError | TimeoutError):
                    await asyncio.shield(self.invalidate())
                else:
                    await asyncio.shield(self.close())
            finally:
                if deadline is not None:
                    await deadline.__aexit__(exc_type, value, traceback)
        except Exception as error:
            mapped = _unavailable(error)
            if mapped is None:
                raise
            raise mapped from error
        if value is not None and (mapped := _unavailable(value)) is not None:
            raise mapped from value


class _GuardedBegin:
    """``async with sessions.begin()`` whose session deadline covers the whole transaction.

    SQLAlchemy's own ``begin()`` context never enters the session (no deadline) and commits
    in a task of its own, out of the deadline's reach; here the session is entered first,
    the transaction begins, and the commit (or rollback) runs in the caller's task before the
    session is left, so a hung commit ends with ``Unavailable`` too.
    """

    __slots__ = ("_session", "_transaction")

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def __aenter__(self) -> AsyncSession:
        await self._session.__aenter__()
        try:
            self._transaction = self._session.begin()
            await self._transaction.__aenter__()
        except BaseException as error:
            await self._session.__aexit__(type(error), error, error.__traceback__)
            raise
        return self._session

    async def __aexit__(
        self, exc_type: type[BaseException] | None, value: BaseException | None, traceback: Any
    ) -> None:
        try:
            await self._transaction.__aexit__(exc_type, value, traceback)
        except BaseException as error:
            await self._session.__aexit__(type(error), error, error.__traceback__)
            raise
        await self._session.__aexit__(exc_type, value, traceback)


class _GuardedSessions(async_sessionmaker[AsyncSession]):
    def begin(self) -> _GuardedBegin:  # type: ignore[override]  # same protocol, own type
        return _GuardedBegin(self())


def session_factory(
    engine: AsyncEngine, *, timeout: float | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose objects stay readable after commit (``GuardedSession``).

    ``timeout`` (seconds, ``None`` for none) bounds each ``async with session`` block on
    the client side; a share of the incoming RPC's deadline bounds it as well (``budget``),
    and ``async with sessions.begin()`` is bounded from its first statement to its commit.
    Failures inside the
    block surface as ``pkg.errors.Unavailable`` (reason ``DATABASE_UNAVAILABLE``).
    """
    return _GuardedSessions(
        engine, class_=GuardedSession, expire_on_commit=False, info={_TIMEOUT_KEY: timeout}
    )


class Reader:
    """Single-statement reads in one round trip on psycopg 3 directly: no transaction, no
    ping, server-side prepared statements, one retry.

    Connections come from a ``psycopg_pool.AsyncConnectionPool`` (opened on first use) of
    ``min_size`` to ``max_size`` autocommit connections (a lone ``SELECT`` is sent as it is,
    no ``BEGIN``/``ROLLBACK``), none checked before use (``check`` off: a dropped one shows
    on use and the read is retried once on a fresh connection), each replaced after
    ``max_lifetime`` seconds.  ``url`` is a libpq URL (``postgresql://`` or SQLAlchemy's
    ``postgresql+psycopg://``); ``connect_timeout`` (seconds, rounded up, at least 2) bounds
    opening a connection, ``statement_timeout`` (seconds) is set on each connection, and
    ``pool_timeout`` (seconds) bounds the wait for a free one.  Statements run with
    ``prepare=True`` (prepared on the server the first time a connection sees them).  The
    whole read, retry included, gets ``budget(timeout)`` seconds (a share of the incoming
    RPC's remaining time); failures surface as ``pkg.errors.Unavailable`` (reason
    ``DATABASE_UNAVAILABLE``) as for ``session_factory``; bound parameters are never logged
    nor put in a message here.  Only for statements that change nothing: a retried
    statement runs twice.  While the last attempt to open a connection failed (a server
    that is gone), a read waits at most ``_FAIL_FAST`` seconds for a pooled connection
    rather than ``pool_timeout``, as a refused connection would answer at once.  The pool
    reconnects in the background with psycopg_pool's exponential backoff (1 s, 2 s, 4 s ...
    between attempts), which after a few seconds of outage would leave the server unused for
    seconds once it is back; so each reconnection gives up after ``reconnect_timeout``
    seconds and the next read that finds the pool empty starts a fresh one (the pool grows
    on demand), and reconnecting keeps pace with the reads.  The caller closes the reader
    (``close``).
    """

    _FAIL_FAST = 0.05

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 10,
        max_size: int = 15,
        connect_timeout: float = 3.0,
        statement_timeout: float = 5.0,
        pool_timeout: float = 3.0,
        max_lifetime: float = 1800.0,
        reconnect_timeout: float = 0.5,
        timeout: float | None = None,
    ) -> None:
        conninfo = make_url(normalise_database_url(url)).set(drivername="postgresql")
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(2, math.ceil(connect_timeout)),
            "options": f"-c statement_timeout={int(statement_timeout * 1000)}",
        }
        self._health = _Health()
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo.render_as_string(hide_password=False),
            kwargs=kwargs,
            open=False,
            connection_class=_watched_connections(self._health),
            min_size=min_size,
            max_size=max(min_size, max_size),
            timeout=pool_timeout,
            max_lifetime=max_lifetime,
            reconnect_timeout=reconnect_timeout,
            name="agora-reads",
        )
        self._timeout = timeout
        self._opened = False

    async def first(
        self,
        query: LiteralString,
        params: Params,
        row_factory: AsyncRowFactory[T],
        *,
        prepare: bool | None = True,
    ) -> T | None:
        """The first row of ``query`` (``%s`` or ``%(name)s`` placeholders bound to
        ``params``) made by ``row_factory`` (``psycopg.rows``), or ``None``; raises
        ``Unavailable``.  ``prepare`` as psycopg's: ``True`` prepares on the server at the
        first run, ``None`` after a few (for statements made per request)."""
        rows = await self._read(query, params, row_factory, prepare=prepare, limit=1)
        return rows[0] if rows else None

    async def all(
        self,
        query: LiteralString,
        params: Params,
        row_factory: AsyncRowFactory[T],
        *,
        prepare: bool | None = True,
    ) -> list[T]:
        """Every row of ``query`` made by ``row_factory``; as ``first`` otherwise."""
        return await self._read(query, params, row_factory, prepare=prepare, limit=None)

    async def _read(
        self,
        query: LiteralString,
        params: Params,
        row_factory: AsyncRowFactory[T],
        *,
        prepare: bool | None,
        limit: int | None,
    ) -> list[T]:
        budgeted = budget(self._timeout)
        deadline = None if budgeted is None else _Deadline(budgeted)
        try:
            try:
                if not self._opened:
                    self._opened = True
                    await self._pool.open(wait=False)
                try:
                    return await self._once(query, params, row_factory, prepare, limit)
                except _Dropped:
                    pass
                return await self._once(query, params, row_factory, prepare, limit)
            finally:
                if deadline is not None:
                    await deadline.__aexit__(*sys.exc_info())
        except _Dropped as dropped:
            raise errors.Unavailable(
                "the database is unavailable; try again", reason=REASON
            ) from dropped.__cause__
        except (TimeoutError, psycopg.OperationalError, psycopg.InterfaceError) as error:
            raise _read_unavailable(error) from error

    async def _once(
        self,
        query: LiteralString,
        params: Params,
        row_factory: AsyncRowFactory[T],
        prepare: bool | None,
        limit: int | None,
    ) -> list[T]:
        connection = await self._pool.getconn(self._FAIL_FAST if self._health.failing else None)
        try:
            cursor = _cursor_of(connection)
            if cursor.row_factory is not row_factory:
                # Setting it rebuilds the row maker for the cursor's last result: only when
                # this read needs another one.
                cursor.row_factory = row_factory
            await cursor.execute(query, params, prepare=prepare)
            if limit is None:
                rows = await cursor.fetchall()
            else:
                rows = await cursor.fetchmany(limit)
        except BaseException as error:
            if isinstance(error, Exception) and not isinstance(
                error, psycopg.OperationalError | psycopg.InterfaceError
            ):
                await self._pool.putconn(connection)
                raise
            dropped = isinstance(error, psycopg.OperationalError) and connection.broken
            await asyncio.shield(self._discard(connection))
            if dropped:
                raise _Dropped() from error
            raise
        await self._pool.putconn(connection)
        return rows

    async def _discard(self, connection: AsyncConnection[Any]) -> None:
        await connection.close()
        await self._pool.putconn(connection)

    async def close(self) -> None:
        """Close the pool and its connections (waits at most 5 s for borrowed ones)."""
        await self._pool.close(timeout=5.0)


class _Health:
    """Whether the last attempt to open a connection failed."""

    failing = False


def _cursor_of(connection: AsyncConnection[Any]) -> AsyncCursor[Any]:
    # One cursor per pooled connection, made on its first read and reused by every later
    # one (psycopg cursors may execute any number of times): making a cursor per read (a
    # Transformer with its adapter maps, then closing it) cost about a quarter of a read's
    # CPU in a micro-benchmark.
    cursor: AsyncCursor[Any] | None = getattr(connection, "reader_cursor", None)
    if cursor is None or cursor.closed:
        cursor = connection.cursor()
        connection.reader_cursor = cursor  # type: ignore[attr-defined]
    return cursor


def _watched_connections(health: _Health) -> type[AsyncConnection[Any]]:
    class WatchedConnection(AsyncConnection[Any]):
        reader_cursor: AsyncCursor[Any] | None = None

        @classmethod
        async def connect(cls, *args: Any, **kwargs: Any) -> WatchedConnection:
            try:
                connection = await super().connect(*args, **kwargs)
            except psycopg.Error:
                health.failing = True
                raise
            health.failing = False
            return connection

    return WatchedConnection


class _Dropped(Exception):
    """The connection turned out to be dropped (its cause is psycopg's error)."""


def _read_unavailable(error: BaseException) -> errors.Unavailable:
    if isinstance(error, TimeoutError | PoolTimeout):
        return errors.Unavailable("the database did not answer in time; try again", reason=REASON)
    return errors.Unavailable("the database is unavailable; try again", reason=REASON)


def database_probe(engine: AsyncEngine) -> Callable[[], Awaitable[bool]]:
    """A health probe (``pkg.server.Probe``): ``True`` when the database answers ``SELECT 1``.

    Raises (the probe counts as down) when it cannot connect or the query fails.
    """

    async def probe() -> bool:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    return probe


def engine_from_settings(
    settings: DatabaseSettingsMixin,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> AsyncEngine:
    """``create_engine`` with the URL, pool and timeouts (seconds) of a service's
    ``settings``; ``pool_size`` and ``max_overflow`` override the settings' (a CLI needs
    one connection).  The caller disposes of the engine."""
    return create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size if pool_size is None else pool_size,
        max_overflow=settings.database_max_overflow if max_overflow is None else max_overflow,
        connect_timeout=settings.database_connect_timeout_seconds,
        statement_timeout=settings.database_statement_timeout_seconds,
        pool_timeout=settings.database_pool_timeout_seconds,
    )


def reader_from_settings(settings: DatabaseSettingsMixin, *, size: int | None = None) -> Reader:
    """A ``Reader`` with the URL, timeouts (seconds) and pool of ``settings``: pool size to
    pool size plus overflow connections, or exactly ``size``.  The caller closes it."""
    low = settings.database_pool_size if size is None else size
    high = settings.database_pool_size + settings.database_max_overflow if size is None else size
    return Reader(
        settings.database_url,
        min_size=low,
        max_size=high,
        connect_timeout=settings.database_connect_timeout_seconds,
        statement_timeout=settings.database_statement_timeout_seconds,
        pool_timeout=settings.database_pool_timeout_seconds,
        timeout=settings.database_timeout_seconds,
    )


_PSYCOPG = psycopg_dialect.dialect()


@dataclass(frozen=True)
class CompiledQuery:
    """A SQLAlchemy Core statement compiled once for psycopg 3, to run through ``Reader``.

    ``sql`` has ``%(name)s`` placeholders (SQLAlchemy's psycopg dialect, casts included);
    ``params`` are the values bound when it was compiled, already converted by each bind
    parameter's type (``TypeEngine.bind_processor``).  ``bind(name=value, ...)`` returns
    them with some replaced (converted the same way): a statement compiled once with
    ``bindparam("ids")`` serves every later value.  Compiling costs a few hundred
    microseconds; running compiled SQL through ``Reader`` skips SQLAlchemy's execution
    path (session, cache key, result processing) altogether.
    """

    sql: LiteralString
    params: Mapping[str, Any]
    _processors: Mapping[str, Callable[[Any], Any]]

    def bind(self, **values: Any) -> dict[str, Any]:
        """``params`` with ``values`` in place of theirs; ``KeyError`` for a name that the
        statement does not bind."""
        params = dict(self.params)
        for name, value in values.items():
            if name not in params:
                raise KeyError(name)
            params[name] = _converted(self._processors, name, value)
        return params


def _converted(processors: Mapping[str, Callable[[Any], Any]], name: str, value: Any) -> Any:
    processor = processors.get(name)
    return value if processor is None or value is None else processor(value)


def compile_query(statement: ClauseElement) -> CompiledQuery:
    """``statement`` compiled for psycopg (see ``CompiledQuery``).  Unbound
    ``bindparam``s are ``None`` until ``bind`` gives them a value."""
    compiled = statement.compile(dialect=_PSYCOPG)
    assert isinstance(compiled, SQLCompiler)
    processors: dict[str, Callable[[Any], Any]] = {}
    for parameter, name in compiled.bind_names.items():
        processor = parameter.type.dialect_impl(_PSYCOPG).bind_processor(_PSYCOPG)
        if processor is not None:
            processors[name] = processor
    params = {name: _converted(processors, name, value) for name, value in compiled.params.items()}
    # The text is SQLAlchemy's rendering of a statement built from columns and bound
    # parameters: no value of a request is ever part of it.
    sql: Any = str(compiled)
    return CompiledQuery(cast(LiteralString, sql), params, processors)
