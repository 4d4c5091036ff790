"""Redis key and field names of the event backbone (see docs/adr/0027-event-backbone.md).

One stream per producing service, ``agora:events:{<source>}``; the braces are a Redis
Cluster hash tag, so the stream and every dead-letter stream of its consumer groups,
``agora:events:{<source>}:dead:<group>``, live in one slot and one ``MULTI`` may touch them
together.  ``producer_streams`` and ``dead_letter_streams`` find the existing ones
(``SCAN``), so operator tools hold no key format of their own.
"""

from __future__ import annotations

import re

from redis.asyncio import Redis

ENVELOPE_FIELD = b"envelope"
"""The stream entry field holding the serialized ``agora.events.v1.Envelope``."""
TYPE_FIELD = b"type"
"""The stream entry field repeating the envelope's ``type`` (for filtering without
decoding)."""
REASON_FIELD = b"reason"
"""A dead letter's field saying why it was dead-lettered (text)."""
MESSAGE_ID_FIELD = b"message_id"
"""A dead letter's field holding the original entry id on the producer's stream."""
GROUP_FIELD = b"group"
"""A dead letter's field naming the consumer group that dead-lettered it."""
DEAD_LETTER_FIELDS = frozenset({REASON_FIELD, MESSAGE_ID_FIELD, GROUP_FIELD})
"""The fields a dead letter adds to the original entry's fields."""

_PREFIX = "agora:events:"
_STREAM = re.compile(r"agora:events:\{([^{}]+)\}")
_DEAD = re.compile(r"agora:events:\{([^{}]+)\}:dead:(.+)", re.DOTALL)


def stream_name(source: str) -> str:
    """The stream of the events ``source`` (a service name, ``user``) produces."""
    return f"{_PREFIX}{{{source}}}"


def dead_letter_stream(source: str, group: str) -> str:
    """The dead-letter stream of consumer group ``group`` on ``source``'s stream."""
    return f"{stream_name(source)}:dead:{group}"


def source_of(key: str) -> str | None:
    """The producing service of stream ``key`` (``agora:events:{user}`` -> ``user``), or
    ``None`` when ``key`` is not a producer's stream (a dead-letter stream, another key)."""
    match = _STREAM.fullmatch(key)
    return match.group(1) if match else None


def dead_letter_of(key: str) -> tuple[str, str] | None:
    """``(source, group)`` of dead-letter stream ``key``, or ``None`` when it is not one."""
    match = _DEAD.fullmatch(key)
    return (match.group(1), match.group(2)) if match else None


async def _scan_streams(redis: Redis) -> list[str]:
    keys: set[str] = set()
    async for key in redis.scan_iter(match=f"{_PREFIX}*", count=500, _type="stream"):
        keys.add(key.decode() if isinstance(key, bytes) else str(key))
    return sorted(keys)


async def producer_streams(redis: Redis) -> list[str]:
    """The names of the producers' streams in ``redis`` (``SCAN ... TYPE stream``), sorted;
    dead-letter streams are left out.  On a Redis Cluster, pass a client of each primary."""
    return [key for key in await _scan_streams(redis) if source_of(key) is not None]


async def dead_letter_streams(redis: Redis) -> list[tuple[str, str, str]]:
    """``(stream, source, group)`` of every dead-letter stream in ``redis``, sorted."""
    found: list[tuple[str, str, str]] = []
    for key in await _scan_streams(redis):
        parsed = dead_letter_of(key)
        if parsed is not None:
            found.append((key, parsed[0], parsed[1]))
    return found
