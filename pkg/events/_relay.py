"""The relay: committed ``outbox`` rows to the producing service's Redis stream.

``Relay.publish_once()`` claims the oldest unpublished rows with ``FOR UPDATE SKIP LOCKED``
(other relay processes skip them) and leaves out a row when an earlier unpublished row of
the same subject is held by another relay (so one subject's events reach the stream in
commit order), both in one statement; it ``XADD``s the rest in order in one pipeline, then
marks them published and commits.
A crash between ``XADD`` and the commit leaves the rows unpublished: they are sent again (a
duplicate the consumers' inboxes drop).  ``Relay.run()`` loops on it, wakes on
``NOTIFY agora_outbox`` (a poll every ``poll_interval`` seconds as the fallback), deletes
published rows older than ``retention`` seconds, trims its stream to the stream retention
(``pkg.events.trim_stream``), and while PostgreSQL or Redis is down backs off (``backoff``
doubling up to ``max_backoff`` seconds) and catches up by itself.  It ends when cancelled,
even when a driver swallowed the ``CancelledError`` (``raise_if_cancelled``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import Any

import psycopg
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import bindparam, delete, make_url, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg import errors
from pkg.clock import utcnow
from pkg.config import normalise_database_url
from pkg.events._cancel import raise_if_cancelled
from pkg.events._streams import ENVELOPE_FIELD, TYPE_FIELD, stream_name
from pkg.events._tables import NOTIFY_CHANNEL, OUTBOX
from pkg.events._trim import trim_stream

_log = logging.getLogger("agora.events.relay")
_DOWN = (errors.Unavailable, SQLAlchemyError, psycopg.Error, RedisError, OSError, TimeoutError)
_CLAIM = text("""
WITH claimed AS (
    SELECT sequence, subject, type, envelope FROM outbox
    WHERE published_at IS NULL ORDER BY sequence LIMIT :batch
    FOR UPDATE SKIP LOCKED),
held AS (
    SELECT subject, min(sequence) AS first FROM outbox
    WHERE published_at IS NULL
      AND sequence < (SELECT max(sequence) FROM claimed)
      AND subject IN (SELECT subject FROM claimed)
      AND sequence NOT IN (SELECT sequence FROM claimed)
    GROUP BY subject)
SELECT c.sequence, c.subject, c.type, c.envelope
FROM claimed c LEFT JOIN held h ON h.subject = c.subject
WHERE h.first IS NULL OR c.sequence < h.first
ORDER BY c.sequence""")
"""Claim up to ``:batch`` rows and return those no other relay's earlier row of the same
subject holds back (one round trip; the locks of the rows left out end with the
transaction)."""


class Relay:
    """Publishes ``source``'s outbox (on ``sessions``' database) to ``stream_name(source)``.

    ``batch`` rows per transaction; ``retention`` seconds before published rows are deleted
    and the stream is trimmed to entries newer than ``stream_max_age`` seconds and/or the
    newest ``stream_max_len`` (``None``: no such bound; both ``None``: never trimmed), both
    at most every ``purge_interval`` seconds; ``listen_url`` (a libpq or SQLAlchemy URL;
    ``None``: poll only) is the connection ``LISTEN`` runs on.  The caller owns ``redis``
    and ``sessions``.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        *,
        source: str,
        listen_url: str | None = None,
        batch: int = 500,
        poll_interval: float = 1.0,
        retention: float = 86400.0,
        stream_max_age: float | None = 7 * 86400.0,
        stream_max_len: int | None = None,
        purge_interval: float = 60.0,
        backoff: float = 0.05,
        max_backoff: float = 2.0,
    ) -> None:
        self._sessions = sessions
        self._redis = redis
        self._stream = stream_name(source)
        self._listen_url = listen_url
        self._batch = batch
        self._poll = poll_interval
        self._retention = retention
        self._stream_max_age = stream_max_age
        self._stream_max_len = stream_max_len
        self._purge_interval = purge_interval
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._next_purge = 0.0
        self.listening = False
        """Whether the relay's ``LISTEN`` connection is open (``run``)."""
        self.published = 0
        """Rows published by this relay (a duplicate after a crash counts again)."""

    @property
    def stream(self) -> str:
        """The stream this relay writes to."""
        return self._stream

    async def publish_once(self) -> int:
        """Publish one batch; the number of rows published (0: nothing to do now).

        Raises ``pkg.errors.Unavailable`` / driver errors when PostgreSQL or Redis fails;
        nothing is marked then.
        """
        async with self._sessions() as session:
            ready = (await session.execute(_CLAIM, {"batch": self._batch})).all()
            if not ready:
                await session.rollback()
                return 0
            async with self._redis.pipeline(transaction=False) as pipe:
                for row in ready:
                    pipe.xadd(self._stream, {ENVELOPE_FIELD: row.envelope, TYPE_FIELD: row.type})
                await pipe.execute()
            await self._mark(session, [row.sequence for row in ready])
            self.published += len(ready)
            return len(ready)

    async def _mark(self, session: AsyncSession, sequences: list[int]) -> None:
        await session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.sequence.in_(bindparam("s", expanding=True)))
            .values(published_at=utcnow()),
            {"s": sequences},
        )
        await session.commit()

    async def purge(self) -> int:
        """Delete rows published more than ``retention`` seconds ago; how many."""
        cutoff = utcnow() - timedelta(seconds=self._retention)
        async with self._sessions() as session:
            result: Any = await session.execute(
                delete(OUTBOX).where(OUTBOX.c.published_at < cutoff)
            )
            await session.commit()
        return int(result.rowcount or 0)

    async def trim(self) -> int:
        """Trim the stream to the stream retention (``trim_stream``: one warning per
        consumer group that loses entries it has not acknowledged); entries deleted."""
        return await trim_stream(
            self._redis, self._stream, max_age=self._stream_max_age, max_len=self._stream_max_len
        )

    async def run(self) -> None:
        """Publish until cancelled; never raises for a dependency that is down (logs one
        warning when it goes down and one info line when it is back)."""
        delay = self._backoff
        down = False
        listener: _Listener | None = None
        try:
            while True:
                raise_if_cancelled()
                try:
                    if listener is None and self._listen_url is not None:
                        listener = await _Listener.open(self._listen_url)
                        self.listening = True
                    while await self.publish_once() >= self._batch:
                        raise_if_cancelled()
                    if time.monotonic() >= self._next_purge:
                        await self.purge()
                        await self.trim()
                        self._next_purge = time.monotonic() + self._purge_interval
                except _DOWN as error:
                    raise_if_cancelled()
                    if not down:
                        _log.warning(
                            "event relay for %s paused: %s", self._stream, error.__class__.__name__
                        )
                        down = True
                    if listener is not None:
                        await listener.close()
                        listener, self.listening = None, False
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._max_backoff)
                    continue
                if down:
                    _log.info("event relay for %s resumed", self._stream)
                    down, delay = False, self._backoff
                if listener is None:
                    await asyncio.sleep(self._poll)
                elif not await listener.wait(self._poll):
                    await listener.close()
                    listener, self.listening = None, False
        finally:
            if listener is not None:
                await asyncio.shield(listener.close())


class _Listener:
    """``LISTEN agora_outbox`` on an autocommit psycopg connection of its own."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection

    @classmethod
    async def open(cls, url: str) -> _Listener:
        conninfo = make_url(normalise_database_url(url)).set(drivername="postgresql")
        connection = await psycopg.AsyncConnection.connect(
            conninfo.render_as_string(hide_password=False), autocommit=True, connect_timeout=3
        )
        await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return cls(connection)

    async def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a notification (then drain the others);
        ``False`` when the connection broke (reopen it)."""
        try:
            async for _ in self._connection.notifies(timeout=seconds, stop_after=1):
                pass
        except psycopg.Error:
            return False
        return not self._connection.broken

    async def close(self) -> None:
        with contextlib.suppress(psycopg.Error, OSError):
            await self._connection.close()
