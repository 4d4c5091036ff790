"""A consumer: one consuming service's consumer group on one producer's stream.

``XREADGROUP`` delivers new entries (``>``); the consumer first re-reads the entries it was
given before and did not acknowledge (its own pending list, after a restart or an outage).
Each entry is decoded (``Envelope``, then the payload class the bus names) and handed to its
handler; the entry is acknowledged only after the handler returned, i.e. after the effect
and its inbox row were committed.  ``XAUTOCLAIM`` takes over entries another consumer of the
group has held for more than ``min_idle`` seconds (a consumer that died).

Dead letters go to ``dead_letter_stream(source, group)`` together with the ``XACK``, in one
``MULTI``, with the reason, and one warning line is logged: a malformed envelope, a type the
contracts do not declare, a payload that does not decode, a handler that raised
``Rejected``, a handler that failed ``max_attempts`` times in a row (backoff doubling from
``backoff`` seconds), an entry delivered more than ``max_deliveries`` times (a consumer that
died in its handler each time).  A handler raising ``pkg.errors.Unavailable`` (its database
is down) leaves the entry pending and the consumer backs off: no attempt is spent on it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.message import DecodeError
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from pkg import errors
from pkg.events._bus import MessageBus, Rejected
from pkg.events._cancel import raise_if_cancelled
from pkg.events._envelope import MalformedEnvelope, event_of, open_envelope
from pkg.events._streams import (
    ENVELOPE_FIELD,
    GROUP_FIELD,
    MESSAGE_ID_FIELD,
    REASON_FIELD,
    dead_letter_stream,
    stream_name,
)

_log = logging.getLogger("agora.events.consumer")
_DOWN = (errors.Unavailable, RedisError, OSError, TimeoutError)


def default_consumer_name() -> str:
    """``<hostname>-<pid>``: unique per process, stable for its life."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Consumer:
    """Consumer ``consumer`` of group ``group`` (the consuming service) on ``source``'s
    stream, applying events with ``bus``.

    ``batch`` entries per read; ``block`` seconds a read waits for new entries;
    ``min_idle`` seconds before another consumer's pending entry is claimed.  The caller
    owns ``redis``.
    """

    def __init__(
        self,
        redis: Redis,
        bus: MessageBus,
        *,
        source: str,
        group: str,
        consumer: str | None = None,
        batch: int = 100,
        block: float = 1.0,
        min_idle: float = 30.0,
        max_attempts: int = 5,
        max_deliveries: int = 10,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self._redis = redis
        self._bus = bus
        self.stream = stream_name(source)
        self.dead_letters = dead_letter_stream(source, group)
        self.group = group
        self.consumer = consumer or default_consumer_name()
        self._batch = batch
        self._block_ms = max(1, int(block * 1000))
        self._min_idle_ms = int(min_idle * 1000)
        self._max_attempts = max_attempts
        self._max_deliveries = max_deliveries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._backlog = True
        self._claim_cursor = "0-0"

    async def ensure_group(self) -> None:
        """Create the group at the stream's start (``MKSTREAM``) unless it exists."""
        try:
            await self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def consume_once(self) -> int:
        """Read one batch (own pending entries first, else new ones, waiting up to
        ``block`` seconds) and handle it; the number of entries read."""
        entries: list[Any] = []
        if self._backlog:
            entries = await self._read("0", None)
            self._backlog = bool(entries)
        if not entries:
            entries = await self._read(">", self._block_ms)
        for message_id, fields in entries:
            if not fields:
                await self._redis.xack(self.stream, self.group, message_id)
                continue
            await self.handle(_text(message_id), fields)
        return len(entries)

    async def _read(self, start: str, block: int | None) -> list[Any]:
        raise_if_cancelled()
        reply: Any = await self._redis.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=self._batch, block=block
        )
        return list(reply[0][1]) if reply else []

    async def reclaim_once(self) -> int:
        """Claim entries idle for more than ``min_idle`` seconds (``XAUTOCLAIM``) and handle
        them; how many were claimed."""
        reply = await self._redis.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            self._min_idle_ms,
            self._claim_cursor,
            count=self._batch,
        )
        self._claim_cursor = _text(reply[0])
        entries = reply[1]
        for message_id, fields in entries:
            if not fields:
                continue
            message_id = _text(message_id)
            pending = await self._redis.xpending_range(
                self.stream, self.group, min=message_id, max=message_id, count=1
            )
            delivered = int(pending[0]["times_delivered"]) if pending else 0
            if delivered > self._max_deliveries:
                await self.dead_letter(
                    message_id, fields, f"delivered {delivered} times without an ack"
                )
                continue
            await self.handle(message_id, fields)
        return len(entries)

    async def handle(self, message_id: str, fields: dict[Any, Any]) -> None:
        """Apply one entry, then acknowledge it, or dead-letter it (see the module)."""
        data = fields.get(ENVELOPE_FIELD)
        if not isinstance(data, bytes):
            await self.dead_letter(message_id, fields, "malformed envelope: no envelope field")
            return
        try:
            envelope = open_envelope(data)
        except MalformedEnvelope as error:
            await self.dead_letter(message_id, fields, f"malformed envelope: {error}")
            return
        route = self._bus.route(envelope.type)
        if route is None:
            if _declared(envelope.type):
                await self._redis.xack(self.stream, self.group, message_id)
            else:
                await self.dead_letter(message_id, fields, f"unknown event type {envelope.type}")
            return
        payload = route.message_type()
        try:
            unpacked = envelope.payload.Unpack(payload)
        except DecodeError as error:
            unpacked, reason = False, f"undecodable payload: {error}"
        else:
            reason = f"undecodable payload: not a {envelope.type}"
        if not unpacked:
            await self.dead_letter(message_id, fields, reason)
            return
        event = event_of(envelope, message_id)
        delay = self._backoff
        failure: Exception | None = None
        attempt = 0
        while attempt < self._max_attempts:
            try:
                await route.handler(payload, event)
            except Rejected as error:
                await self.dead_letter(message_id, fields, f"rejected: {error}")
                return
            except errors.Unavailable:
                raise
            except Exception as error:
                failure = error
                attempt += 1
                if attempt < self._max_attempts:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._max_backoff)
                continue
            await self._redis.xack(self.stream, self.group, message_id)
            return
        await self.dead_letter(
            message_id, fields, f"handler failed {self._max_attempts} times: {failure!r}"
        )

    async def dead_letter(self, message_id: str, fields: dict[Any, Any], reason: str) -> None:
        """Move entry ``message_id`` to the dead-letter stream with ``reason`` and
        acknowledge it, in one ``MULTI``; log one warning line."""
        entry: dict[Any, Any] = {
            **fields,
            REASON_FIELD: reason.encode(),
            MESSAGE_ID_FIELD: message_id.encode(),
            GROUP_FIELD: self.group.encode(),
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_letters, entry)
            pipe.xack(self.stream, self.group, message_id)
            await pipe.execute()
        _log.warning(
            "event %s of %s dead-lettered to %s: %s",
            message_id,
            self.stream,
            self.dead_letters,
            reason,
        )

    async def run(self, *, claim_interval: float | None = None) -> None:
        """Consume until cancelled, reclaiming idle entries every ``claim_interval``
        seconds (default ``min_idle``); while Redis or a handler's dependency is down, back
        off (doubling up to ``max_backoff``) and resume with the pending entries.  Ends when
        cancelled even if redis-py swallowed the ``CancelledError`` in a blocking read
        (``raise_if_cancelled`` at every turn)."""
        interval = self._min_idle_ms / 1000 if claim_interval is None else claim_interval
        loop = asyncio.get_running_loop()
        next_claim = loop.time() + interval
        delay = self._backoff
        down = False
        while True:
            raise_if_cancelled()
            try:
                await self.ensure_group()
                while True:
                    raise_if_cancelled()
                    if loop.time() >= next_claim:
                        while await self.reclaim_once() and self._claim_cursor != "0-0":
                            pass
                        next_claim = loop.time() + interval
                    await self.consume_once()
                    if down:
                        _log.info("consumer %s of %s resumed", self.group, self.stream)
                        down, delay = False, self._backoff
            except _DOWN as error:
                raise_if_cancelled()
                if not down:
                    _log.warning(
                        "consumer %s of %s paused: %s",
                        self.group,
                        self.stream,
                        error.__class__.__name__,
                    )
                    down = True
                self._backlog = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)


def _declared(type_name: str) -> bool:
    try:
        descriptor_pool.Default().FindMessageTypeByName(type_name)
    except KeyError:
        return False
    return True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
