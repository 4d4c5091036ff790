"""The unit of work, the relay and consumers against a real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from google.protobuf import any_pb2, wrappers_pb2
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.clock import utcnow
from pkg.events import (
    ENVELOPE_FIELD,
    OUTBOX,
    TYPE_FIELD,
    Consumer,
    Event,
    MessageBus,
    Rejected,
    Relay,
    apply_once,
    inbox_key,
    open_envelope,
    seal,
    stream_name,
    trim_stream,
)
from pkg.tests._events_kit import (
    Account,
    applied,
    database_url,
    deposit,
    engine,
    record_applied,
    redis,
    sessions,
    source,
    unit_of_work,
    until,
)

pytestmark = pytest.mark.integration
__all__ = ["database_url", "engine", "redis", "sessions", "source"]
Sessions = async_sessionmaker[AsyncSession]


async def _outbox(sessions: Sessions) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(select(OUTBOX).order_by(OUTBOX.c.sequence))).all())


async def _stream_values(redis: Any, stream: str) -> list[tuple[str, int]]:
    values = []
    for _, fields in await redis.xrange(stream):
        envelope = open_envelope(fields[ENVELOPE_FIELD])
        payload = wrappers_pb2.Int64Value()
        assert envelope.payload.Unpack(payload)
        values.append((envelope.subject, payload.value))
    return values


async def _has_entries(redis: Any, stream: str) -> bool:
    return bool(await redis.xlen(stream))


async def _until(condition: Callable[[], Awaitable[bool]], bound: float = 20.0) -> None:
    await until(condition, bound)


async def test_commit_writes_the_state_and_its_events_in_one_transaction(
    sessions: Sessions, source: str
) -> None:
    uow = unit_of_work(sessions, source)
    await deposit(uow, "a", [5, 7])
    rows = await _outbox(sessions)
    assert [row.subject for row in rows] == ["accounts/a", "accounts/a"]
    envelopes = [open_envelope(row.envelope) for row in rows]
    assert [e.type for e in envelopes] == ["google.protobuf.Int64Value"] * 2
    assert {e.source for e in envelopes} == {source}
    assert [str(row.event_id) for row in rows] == [e.id for e in envelopes]
    values = []
    for envelope in envelopes:
        payload = wrappers_pb2.Int64Value()
        assert envelope.payload.Unpack(payload)
        values.append(payload.value)
    assert values == [5, 12]

    async with uow:
        account = await uow.repositories.get("a")
        account.deposit(100)
        await uow.repositories.save(account)
    async with uow:
        assert (await uow.repositories.get("a")).balance == 12
    assert len(await _outbox(sessions)) == 2


async def test_an_event_the_mapper_does_not_know_commits_nothing(
    sessions: Sessions, source: str
) -> None:
    uow = unit_of_work(sessions, source)
    with pytest.raises(TypeError):
        async with uow:
            account = Account("b")
            await uow.repositories.add(account)
            account.events.append(object())
            await uow.commit()
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM accounts")) == 0
    assert await _outbox(sessions) == []


async def test_the_relay_publishes_in_commit_order_then_marks_the_rows(
    sessions: Sessions, redis: Any, source: str
) -> None:
    uow = unit_of_work(sessions, source)
    await deposit(uow, "a", [1, 2])
    await deposit(uow, "b", [10])
    await deposit(uow, "a", [3])
    relay = Relay(sessions, redis, source=source)
    assert await relay.publish_once() == 4
    assert await _stream_values(redis, stream_name(source)) == [
        ("accounts/a", 1),
        ("accounts/a", 3),
        ("accounts/b", 10),
        ("accounts/a", 6),
    ]
    entry = (await redis.xrange(stream_name(source)))[0][1]
    assert entry[TYPE_FIELD] == b"google.protobuf.Int64Value"
    assert all(row.published_at is not None for row in await _outbox(sessions))
    assert await relay.publish_once() == 0
    assert await redis.xlen(stream_name(source)) == 4


async def test_several_relays_publish_each_row_once_in_each_subjects_order(
    sessions: Sessions, redis: Any, source: str
) -> None:
    await asyncio.gather(
        *(deposit(unit_of_work(sessions, source), f"s{i}", [1] * 12) for i in range(4))
    )
    relays = [Relay(sessions, redis, source=source, batch=5) for _ in range(3)]

    async def drain(relay: Relay) -> None:
        while True:
            if not await relay.publish_once() and all(
                row.published_at is not None for row in await _outbox(sessions)
            ):
                return
            await asyncio.sleep(0)

    await asyncio.gather(*(drain(relay) for relay in relays))
    values = await _stream_values(redis, stream_name(source))
    assert len(values) == 48
    for i in range(4):
        assert [v for s, v in values if s == f"accounts/s{i}"] == list(range(1, 13))
    assert sum(relay.published for relay in relays) == 48


async def test_the_relay_wakes_on_notify(
    sessions: Sessions, redis: Any, source: str, database_url: str
) -> None:
    relay = Relay(sessions, redis, source=source, listen_url=database_url, poll_interval=3600)
    task = asyncio.create_task(relay.run())
    try:
        await _until(lambda: asyncio.sleep(0, relay.listening))
        await deposit(unit_of_work(sessions, source), "n", [4])
        await _until(lambda: _has_entries(redis, stream_name(source)))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await _stream_values(redis, stream_name(source)) == [("accounts/n", 4)]


async def test_published_rows_are_deleted_after_the_retention_window(
    sessions: Sessions, redis: Any, source: str
) -> None:
    uow = unit_of_work(sessions, source)
    await deposit(uow, "r", [1, 2])
    relay = Relay(sessions, redis, source=source, retention=3600)
    assert await relay.publish_once() == 2
    await deposit(uow, "r", [3])
    async with sessions() as session:
        first = (await _outbox(sessions))[0].sequence
        await session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.sequence == first)
            .values(published_at=func.now() - text("interval '2 hours'"))
        )
        await session.commit()
    assert await relay.purge() == 1
    assert [row.published_at is None for row in await _outbox(sessions)] == [False, True]


async def test_a_redelivered_event_is_applied_once(
    sessions: Sessions, redis: Any, source: str
) -> None:
    uow = unit_of_work(sessions, source)
    await deposit(uow, "c", [9])
    row = (await _outbox(sessions))[0]
    for _ in range(2):
        await redis.xadd(stream_name(source), {ENVELOPE_FIELD: row.envelope})
    bus = MessageBus({wrappers_pb2.Int64Value: record_applied(unit_of_work(sessions, "me"))})
    consumer = Consumer(redis, bus, source=source, group="me")
    await consumer.ensure_group()
    assert await consumer.consume_once() == 2
    assert await applied(sessions) == [(str(row.event_id), "accounts/c", 9)]
    assert (await redis.xpending(consumer.stream, "me"))["pending"] == 0


def _forged(type_name: str, payload: bytes) -> bytes:
    envelope = seal(
        wrappers_pb2.Int64Value(value=1), source="x", subject="accounts/x", time=utcnow()
    )
    envelope.type = type_name
    envelope.payload.CopyFrom(
        any_pb2.Any(type_url=f"type.googleapis.com/{type_name}", value=payload)
    )
    return envelope.SerializeToString()


async def test_bad_events_are_dead_lettered_with_the_reason_and_the_consumer_goes_on(
    sessions: Sessions, redis: Any, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[str] = []

    async def handle(payload: wrappers_pb2.Int64Value, event: Event) -> None:
        if payload.value == 404:
            raise Rejected(f"{event.subject} does not exist")
        if payload.value == 500:
            failures.append(event.id)
            raise RuntimeError("boom")
        await record_applied(unit_of_work(sessions, "me"))(payload, event)

    def good(value: int) -> bytes:
        return seal(
            wrappers_pb2.Int64Value(value=value), source=source, subject="accounts/g", time=utcnow()
        ).SerializeToString()

    stream = stream_name(source)
    await redis.xadd(stream, {ENVELOPE_FIELD: b"\xff\xfe not protobuf"})
    await redis.xadd(stream, {b"other": b"1"})
    await redis.xadd(stream, {ENVELOPE_FIELD: _forged("agora.nope.v1.Nope", b"")})
    await redis.xadd(stream, {ENVELOPE_FIELD: _forged("google.protobuf.Int64Value", b"\x08\x80")})
    await redis.xadd(stream, {ENVELOPE_FIELD: good(404)})
    await redis.xadd(stream, {ENVELOPE_FIELD: good(500)})
    await redis.xadd(stream, {ENVELOPE_FIELD: _forged("google.protobuf.StringValue", b"\x0a\x01z")})
    await redis.xadd(stream, {ENVELOPE_FIELD: good(7)})
    consumer = Consumer(
        redis,
        MessageBus({wrappers_pb2.Int64Value: handle}),
        source=source,
        group="me",
        max_attempts=3,
        backoff=0,
    )
    await consumer.ensure_group()
    caplog.set_level(logging.WARNING, "agora.events.consumer")
    assert await consumer.consume_once() == 8
    reasons = [
        fields[b"reason"].decode() for _, fields in await redis.xrange(consumer.dead_letters)
    ]
    assert [r.split(":")[0] for r in reasons] == [
        "malformed envelope",
        "malformed envelope",
        "unknown event type agora.nope.v1.Nope",
        "undecodable payload",
        "rejected",
        "handler failed 3 times",
    ]
    assert "accounts/g does not exist" in reasons[4] and "boom" in reasons[5]
    assert len(failures) == 3
    assert len([r for r in caplog.records if "dead-lettered" in r.getMessage()]) == 6
    assert [value for _, _, value in await applied(sessions)] == [7]
    assert (await redis.xpending(stream, "me"))["pending"] == 0


async def test_the_redis_inbox_applies_an_effect_once(redis: Any, source: str) -> None:
    key = inbox_key(source, str(uuid.uuid4()))
    counter = f"agora:test:{{{source}}}:count"
    results = [
        await apply_once(redis, key, lambda pipe: pipe.incr(counter), ttl=60) for _ in range(3)
    ]
    assert results == [True, False, False]
    assert await redis.get(counter) == b"1"
    assert 0 < await redis.pttl(key) <= 60_000


async def test_trimming_warns_naming_the_group_that_has_not_acknowledged(
    redis: Any, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    stream = stream_name(source)
    for value in range(10):
        await redis.xadd(stream, {b"n": str(value).encode()})
    await redis.xgroup_create(stream, "done", id="0")
    await redis.xgroup_create(stream, "slow", id="0")
    for group in ("done", "slow"):
        read = await redis.xreadgroup(group, "c", {stream: ">"}, count=6)
        if group == "done":
            await redis.xack(stream, group, *[entry_id for entry_id, _ in read[0][1]])
    caplog.set_level(logging.WARNING, "agora.events.retention")
    assert await trim_stream(redis, stream, max_len=4) == 6
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "slow" in warnings[0] and "drops 6" in warnings[0]
    assert await redis.xlen(stream) == 4
    caplog.clear()
    assert await trim_stream(redis, stream, max_age=3600) == 0
    assert caplog.records == []
