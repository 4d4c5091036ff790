"""How far each consumer group is behind on each producer's stream (``agora status``).

Per stream: its length (``XLEN``); per consumer group (``XINFO GROUPS``): its pending
entries (delivered, not acknowledged: the length of the group's pending entries list, as
the ``XPENDING`` summary counts it), its lag (entries not yet delivered to the group:
the ``lag`` field, which Redis reports from 7.0 on, and not at all, or as nil, when it
cannot tell, e.g. after entries were deleted), its consumers, and its dead letters
(``XLEN`` of ``dead_letter_stream``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from pkg.events._streams import dead_letter_stream, producer_streams, source_of


@dataclass(frozen=True)
class GroupStats:
    """One consumer group: ``pending``, ``lag`` (None when Redis does not report it),
    ``consumers`` and ``dead_letters`` are counts; ``last_delivered`` an entry id."""

    name: str
    pending: int
    lag: int | None
    consumers: int
    dead_letters: int
    last_delivered: str


@dataclass(frozen=True)
class StreamStats:
    """One producer's stream: its name, ``source``, ``length`` (entries) and groups."""

    stream: str
    source: str
    length: int
    groups: tuple[GroupStats, ...]


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


async def stream_stats(redis: Redis) -> list[StreamStats]:
    """``StreamStats`` of every producer's stream in ``redis``, sorted by name; groups in
    the order Redis lists them."""
    report = []
    for stream in await producer_streams(redis):
        source = source_of(stream) or ""
        groups = []
        for info in await redis.xinfo_groups(stream):
            name = _text(info["name"])
            lag = info.get("lag")
            groups.append(
                GroupStats(
                    name=name,
                    pending=int(info["pending"]),
                    lag=None if lag is None else int(lag),
                    consumers=int(info["consumers"]),
                    dead_letters=int(await redis.xlen(dead_letter_stream(source, name))),
                    last_delivered=_text(info.get("last-delivered-id", b"")),
                )
            )
        report.append(StreamStats(stream, source, int(await redis.xlen(stream)), tuple(groups)))
    return report
