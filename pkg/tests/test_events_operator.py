"""The operator's view of the event streams (tail, dead letters, group stats) on a real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from google.protobuf import any_pb2, wrappers_pb2
from google.protobuf.message import Message

from agora.user.v1 import user_pb2
from pkg.clock import utcnow
from pkg.events import (
    ENVELOPE_FIELD,
    TYPE_FIELD,
    Consumer,
    DeadLetterNotFound,
    Event,
    MessageBus,
    Rejected,
    dead_letter_stream,
    dead_letter_streams,
    events_after,
    follow_events,
    last_ids,
    list_dead_letters,
    producer_streams,
    recent_events,
    replay_dead_letters,
    seal,
    select_streams,
    stream_name,
    stream_stats,
)
from pkg.tests._events_kit import redis, source

pytestmark = pytest.mark.integration
__all__ = ["redis", "source"]


async def publish(redis: Any, source: str, payload: Message, subject: str) -> str:
    """XADD ``payload`` sealed as the relay writes it; the new entry id."""
    envelope = seal(payload, source=source, subject=subject, time=utcnow())
    entry_id = await redis.xadd(
        stream_name(source),
        {ENVELOPE_FIELD: envelope.SerializeToString(), TYPE_FIELD: envelope.type},
    )
    return str(entry_id.decode())


def user(number: int) -> user_pb2.User:
    return user_pb2.User(
        name=f"users/{number}", email=f"u{number}@example.com", display_name=f"User {number}"
    )


async def test_tail_gives_the_last_events_decoded_oldest_first(redis: Any, source: str) -> None:
    ids = [await publish(redis, source, user(n), f"users/{n}") for n in range(5)]
    records = await recent_events(redis, await select_streams(redis, source), count=3)
    assert [r["entry_id"] for r in records] == ids[2:]
    last = records[-1]
    assert last["type"] == "agora.user.v1.User" and last["source"] == source
    assert last["subject"] == "users/4" and last["stream"] == stream_name(source)
    assert last["payload"] == {
        "name": "users/4",
        "email": "u4@example.com",
        "displayName": "User 4",
    }
    assert last["time"].endswith("Z") and "T" in last["time"]
    assert "decode_error" not in last


async def test_tail_filters_by_type_and_merges_streams_by_entry_id(redis: Any, source: str) -> None:
    other = f"{source}b"
    written = []
    for n in range(4):
        written.append(await publish(redis, source, user(n), f"users/{n}"))
        written.append(
            await publish(redis, other, wrappers_pb2.Int64Value(value=n), f"accounts/{n}")
        )
    streams = [stream_name(source), stream_name(other)]
    both = await recent_events(redis, streams, count=8)
    assert [r["entry_id"] for r in both] == written
    counts = await recent_events(redis, streams, count=2, type_name="google.protobuf.Int64Value")
    assert [(r["subject"], r["payload"]) for r in counts] == [
        ("accounts/2", "2"),
        ("accounts/3", "3"),
    ]
    listed = await producer_streams(redis)
    assert set(streams) <= set(listed)
    assert not [s for s in listed if ":dead:" in s]


async def test_tail_since_gives_every_later_event_and_advances_the_cursor(
    redis: Any, source: str
) -> None:
    ids = [await publish(redis, source, user(n), f"users/{n}") for n in range(450)]
    cursors = {stream_name(source): ids[1]}
    records = [r async for r in events_after(redis, cursors)]
    assert [r["entry_id"] for r in records] == ids[2:]
    assert cursors[stream_name(source)] == ids[-1]
    typed = [
        r
        async for r in events_after(
            redis, {stream_name(source): "0"}, type_name="agora.user.v1.Nothing"
        )
    ]
    assert typed == []


def _forged(type_name: str, value: bytes) -> bytes:
    envelope = seal(
        wrappers_pb2.Int64Value(value=1), source="x", subject="accounts/x", time=utcnow()
    )
    envelope.type = type_name
    envelope.payload.CopyFrom(any_pb2.Any(type_url=f"type.googleapis.com/{type_name}", value=value))
    return envelope.SerializeToString()


async def test_bad_entries_become_decode_error_records_and_tail_goes_on(
    redis: Any, source: str
) -> None:
    stream = stream_name(source)
    await redis.xadd(stream, {b"other": b"1"})
    await redis.xadd(stream, {ENVELOPE_FIELD: b"\xff\xfe not protobuf"})
    await redis.xadd(stream, {ENVELOPE_FIELD: _forged("agora.nope.v1.Nope", b"\x08\x01")})
    await redis.xadd(stream, {ENVELOPE_FIELD: _forged("google.protobuf.Int64Value", b"\x08\x80")})
    await publish(redis, source, user(1), "users/1")
    records = await recent_events(redis, [stream], count=10)
    errors = [r.get("decode_error", "") for r in records]
    assert errors[0] == "no envelope field in the entry" and records[0]["fields"] == ["other"]
    assert errors[1].startswith("malformed envelope") and "envelope_base64" in records[1]
    assert errors[2] == "unknown event type agora.nope.v1.Nope"
    assert records[2]["payload_base64"] == "CAE=" and records[2]["subject"] == "accounts/x"
    assert errors[3].startswith("undecodable payload") and "payload" not in records[3]
    assert errors[4] == "" and records[4]["payload"]["name"] == "users/1"


async def test_follow_yields_only_what_arrives_afterwards(redis: Any, source: str) -> None:
    await publish(redis, source, user(1), "users/1")
    cursors = await last_ids(redis, [stream_name(source)])
    events = follow_events(redis, cursors, type_name="agora.user.v1.User", block=0.2)
    await redis.xadd(stream_name(source), {b"other": b"1"})
    new = await publish(redis, source, user(2), "users/2")
    async with asyncio.timeout(30):
        record = await anext(events)
    await events.aclose()
    assert (record["entry_id"], record["subject"]) == (new, "users/2")
    assert cursors[stream_name(source)] == new


async def test_a_rejected_event_is_listed_replayed_and_then_applied(
    redis: Any, source: str
) -> None:
    applied: list[str] = []
    fixed = False

    async def handle(payload: user_pb2.User, event: Event) -> None:
        if not fixed:
            raise Rejected(f"{event.subject} is unknown here")
        applied.append(event.id)

    consumer = Consumer(
        redis, MessageBus({user_pb2.User: handle}), source=source, group="me", backoff=0
    )
    await consumer.ensure_group()
    original = await publish(redis, source, user(7), "users/7")
    await redis.xadd(stream_name(source), {ENVELOPE_FIELD: b"junk"})
    assert await consumer.consume_once() == 2
    letters = await list_dead_letters(redis, source=source)
    assert [(d.group, d.message_id, d.subject, d.type) for d in letters] == [
        ("me", original, "users/7", "agora.user.v1.User"),
        ("me", letters[1].message_id, "", ""),
    ]
    rejected = letters[0]
    assert rejected.reason == "rejected: users/7 is unknown here"
    assert rejected.stream == dead_letter_stream(source, "me") and rejected.event_id
    assert await list_dead_letters(redis, source=source, group="other") == []
    assert (dead_letter_stream(source, "me"), source, "me") in await dead_letter_streams(redis)

    fixed = True
    replayed = await replay_dead_letters(redis, [rejected.entry_id], source=source)
    assert [r.letter.event_id for r in replayed] == [rejected.event_id]
    assert await consumer.consume_once() == 1
    assert applied == [rejected.event_id]
    assert [d.entry_id for d in await list_dead_letters(redis, source=source)] == [
        letters[1].entry_id
    ]
    with pytest.raises(DeadLetterNotFound):
        await replay_dead_letters(redis, [rejected.entry_id], source=source)
    with pytest.raises(ValueError, match="not a stream entry id"):
        await replay_dead_letters(redis, ["12"], source=source)


async def test_replay_all_empties_the_dead_letter_stream(redis: Any, source: str) -> None:
    consumer = Consumer(redis, MessageBus({}), source=source, group="me", backoff=0)
    await consumer.ensure_group()
    for _ in range(3):
        await redis.xadd(stream_name(source), {ENVELOPE_FIELD: b"junk"})
    await consumer.consume_once()
    replayed = await replay_dead_letters(redis, None, source=source, group="me")
    assert len(replayed) == 3
    assert await redis.xlen(dead_letter_stream(source, "me")) == 0
    assert await redis.xlen(stream_name(source)) == 6


async def _redis_major(redis: Any) -> int:
    info = await redis.info("server")
    return int(str(info["redis_version"]).split(".")[0])


async def test_stats_show_pending_lag_consumers_and_dead_letters(redis: Any, source: str) -> None:
    for n in range(4):
        await publish(redis, source, user(n), f"users/{n}")
    await redis.xadd(stream_name(source), {ENVELOPE_FIELD: b"junk"})
    consumer = Consumer(redis, MessageBus({}), source=source, group="slow", backoff=0)
    await consumer.ensure_group()
    await consumer.consume_once()
    await publish(redis, source, user(9), "users/9")
    await redis.xgroup_create(stream_name(source), "lazy", id="0")
    await redis.xreadgroup("lazy", "c1", {stream_name(source): ">"}, count=2)

    stats = {s.source: s for s in await stream_stats(redis)}
    mine = stats[source]
    assert mine.stream == stream_name(source) and mine.length == 6
    groups = {g.name: g for g in mine.groups}
    has_lag = await _redis_major(redis) >= 7
    slow, lazy = groups["slow"], groups["lazy"]
    assert (slow.pending, slow.consumers, slow.dead_letters) == (0, 1, 1)
    assert (lazy.pending, lazy.consumers, lazy.dead_letters) == (2, 1, 0)
    assert slow.lag == (1 if has_lag else None)
    assert lazy.lag == (4 if has_lag else None)
