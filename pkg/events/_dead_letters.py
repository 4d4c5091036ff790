"""Dead letters as an operator sees them: listing them and replaying them.

A dead letter (``Consumer.dead_letter``) is the original stream entry's fields plus
``reason``, ``message_id`` (the entry id on the producer's stream) and ``group``, on
``dead_letter_stream(source, group)``.  Replaying one puts the original fields back on the
producer's stream (``XADD``, a new entry id) and deletes the dead letter (``XDEL``) in one
``MULTI``, under ``WATCH`` of the dead-letter stream, so two operators replaying the same
letter add it once.  Both keys carry the producer's hash tag, so this is legal on a Redis
Cluster.  Every consumer group of the stream receives the replayed entry again; the groups
that had applied it drop it in their inbox (the event id is unchanged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError
from redis.asyncio import Redis
from redis.exceptions import WatchError

from pkg.events._envelope import Envelope
from pkg.events._streams import (
    DEAD_LETTER_FIELDS,
    ENVELOPE_FIELD,
    GROUP_FIELD,
    MESSAGE_ID_FIELD,
    REASON_FIELD,
    TYPE_FIELD,
    dead_letter_streams,
    stream_name,
)

ENTRY_ID = re.compile(r"[0-9]+-[0-9]+")
"""A complete stream entry id, ``<milliseconds>-<sequence>``."""
_PAGE = 500
_WATCH_ATTEMPTS = 10


class DeadLetterNotFound(LookupError):
    """No dead-letter stream (of the chosen source and group) holds the entry id."""


class AmbiguousDeadLetter(LookupError):
    """Several dead-letter streams hold the entry id: choose one with source and group."""


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter.

    ``stream`` is the dead-letter stream and ``entry_id`` the letter's id there; ``source``
    and ``group`` the producer and the consumer group that gave up; ``message_id`` the
    original entry id on ``stream_name(source)``; ``event_id``, ``type``, ``subject`` are
    read from the envelope (empty strings when it does not parse).
    """

    stream: str
    entry_id: str
    source: str
    group: str
    reason: str
    message_id: str
    event_id: str
    type: str
    subject: str


@dataclass(frozen=True)
class Replayed:
    """A replayed dead letter and the id of its new entry on the producer's stream."""

    letter: DeadLetter
    new_entry_id: str


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _letter(
    stream: str, source: str, group: str, raw_id: Any, fields: dict[Any, Any]
) -> DeadLetter:
    envelope = Envelope()
    data = fields.get(ENVELOPE_FIELD)
    if isinstance(data, bytes):
        try:
            envelope.ParseFromString(data)
        except DecodeError:
            envelope = Envelope()
    return DeadLetter(
        stream=stream,
        entry_id=_text(raw_id),
        source=source,
        group=_text(fields.get(GROUP_FIELD, group.encode())),
        reason=_text(fields.get(REASON_FIELD, b"")),
        message_id=_text(fields.get(MESSAGE_ID_FIELD, b"")),
        event_id=envelope.id,
        type=envelope.type or _text(fields.get(TYPE_FIELD, b"")),
        subject=envelope.subject,
    )


async def _streams(
    redis: Redis, source: str | None, group: str | None
) -> list[tuple[str, str, str]]:
    return [
        (stream, s, g)
        for stream, s, g in await dead_letter_streams(redis)
        if (source is None or s == source) and (group is None or g == group)
    ]


async def list_dead_letters(
    redis: Redis, *, source: str | None = None, group: str | None = None
) -> list[DeadLetter]:
    """Every dead letter, optionally only of producer ``source`` and/or consumer group
    ``group``: by dead-letter stream, oldest first (read in pages of 500)."""
    letters = []
    for stream, letter_source, letter_group in await _streams(redis, source, group):
        start = "-"
        while True:
            page: Any = await redis.xrange(stream, min=start, count=_PAGE)
            letters += [
                _letter(stream, letter_source, letter_group, raw_id, fields)
                for raw_id, fields in page
            ]
            if len(page) < _PAGE:
                break
            start = f"({_text(page[-1][0])}"
    return letters


async def _find(
    redis: Redis, candidates: list[tuple[str, str, str]], entry_id: str
) -> tuple[str, str, str]:
    if not ENTRY_ID.fullmatch(entry_id):
        raise ValueError(f"{entry_id!r} is not a stream entry id (<milliseconds>-<sequence>)")
    holders = [
        candidate
        for candidate in candidates
        if await redis.xrange(candidate[0], min=entry_id, max=entry_id)
    ]
    if not holders:
        raise DeadLetterNotFound(f"no dead letter {entry_id}")
    if len(holders) > 1:
        raise AmbiguousDeadLetter(
            f"dead letter {entry_id} is in {', '.join(h[0] for h in holders)}: "
            "choose one with --source and --group"
        )
    return holders[0]


async def _replay_one(
    redis: Redis, stream: str, source: str, group: str, entry_id: str
) -> Replayed | None:
    async with redis.pipeline(transaction=True) as pipe:
        for _ in range(_WATCH_ATTEMPTS):
            try:
                await pipe.watch(stream)
                found: Any = await pipe.xrange(stream, min=entry_id, max=entry_id)
                if not found:
                    await pipe.reset()
                    return None
                fields = found[0][1]
                original = {k: v for k, v in fields.items() if k not in DEAD_LETTER_FIELDS}
                if not original:
                    await pipe.reset()
                    raise ValueError(
                        f"dead letter {entry_id} of {stream} holds no fields of the original entry"
                    )
                pipe.multi()
                pipe.xadd(stream_name(source), original)
                pipe.xdel(stream, entry_id)
                new_id, _ = await pipe.execute()
            except WatchError:
                continue
            return Replayed(_letter(stream, source, group, entry_id, fields), _text(new_id))
    raise RuntimeError(f"{stream} kept changing while replaying {entry_id}; try again")


async def replay_dead_letters(
    redis: Redis,
    entry_ids: list[str] | None,
    *,
    source: str | None = None,
    group: str | None = None,
) -> list[Replayed]:
    """Replay the dead letters ``entry_ids`` (all of them when None), optionally only of
    producer ``source`` and/or group ``group``; what was replayed, in order.

    Every id is looked up before anything is replayed: ``ValueError`` for an id that is
    not ``<ms>-<seq>``, ``DeadLetterNotFound`` for one no dead-letter stream holds,
    ``AmbiguousDeadLetter`` for one several hold.  A letter another operator replayed
    meanwhile is left out; ``ValueError`` for a letter with no original field (a
    ``Consumer`` never writes one).  ``RuntimeError`` when the dead-letter stream changes on every
    one of 10 attempts.
    """
    candidates = await _streams(redis, source, group)
    if entry_ids is None:
        targets = [
            (letter.stream, letter.source, letter.group, letter.entry_id)
            for letter in await list_dead_letters(redis, source=source, group=group)
        ]
    else:
        targets = [
            (*await _find(redis, candidates, entry_id), entry_id)
            for entry_id in dict.fromkeys(entry_ids)
        ]
    replayed = []
    for stream, letter_source, letter_group, entry_id in targets:
        done = await _replay_one(redis, stream, letter_source, letter_group, entry_id)
        if done is not None:
            replayed.append(done)
    return replayed
