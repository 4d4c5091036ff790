"""Stream retention: trimming by age or length, warning before unacknowledged entries go."""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.asyncio import Redis

_log = logging.getLogger("agora.events.retention")
_BATCH = 500


def _parse(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def trim_stream(
    redis: Redis, stream: str, *, max_age: float | None = None, max_len: int | None = None
) -> int:
    """Delete the entries of ``stream`` older than ``max_age`` seconds and/or beyond the
    newest ``max_len`` (whichever drops more; nothing when both are ``None``); the number
    deleted.  The entries below the cut are read and deleted by id (``XRANGE`` then
    ``XDEL``, ``_BATCH`` at a time), not with ``XTRIM MINID``: Redis 6.2.5 (the embedded
    server) also drops newer entries sharing a node with ones 2^31 ms (24.8 days) or more
    older than the cut, which a quiet stream has.

    Before trimming, each consumer group (``XINFO GROUPS``) whose pending entries or
    not-yet-delivered entries fall below the cut gets one warning line naming the group
    and how many of its entries are dropped unacknowledged.
    """
    if not await redis.xlen(stream):  # empty or not created yet: XINFO would refuse it
        return 0
    cuts: list[tuple[int, int]] = []
    if max_age is not None:
        cuts.append((int((time.time() - max_age) * 1000), 0))
    if max_len is not None:
        newest: Any = await redis.xrevrange(stream, count=max_len) if max_len > 0 else []
        if len(newest) == max_len and (max_len == 0 or await redis.xlen(stream) > max_len):
            cuts.append(_parse(_text(newest[-1][0])) if newest else (2**63 - 1, 0))
    if not cuts:
        return 0
    cut = max(cuts)
    cut_id = f"{cut[0]}-{cut[1]}"
    for group in await redis.xinfo_groups(stream):
        name = _text(group["name"])
        lost = 0
        if int(group["pending"]):
            pending: Any = await redis.xpending_range(
                stream, name, min="-", max=f"({cut_id}", count=10_000
            )
            lost += len(pending)
        delivered = _text(group["last-delivered-id"])
        if _parse(delivered) < cut:
            undelivered: Any = await redis.xrange(
                stream, min=f"({delivered}", max=f"({cut_id}", count=10_000
            )
            lost += len(undelivered)
        if lost:
            _log.warning(
                "trimming %s drops %d entries consumer group %s has not acknowledged",
                stream,
                lost,
                name,
            )
    deleted = 0
    for _ in range(int(await redis.xlen(stream)) // _BATCH + 2):
        below: Any = await redis.xrange(stream, min="-", max=f"({cut_id}", count=_BATCH)
        if not below:
            break
        deleted += int(await redis.xdel(stream, *[entry_id for entry_id, _ in below]))
    return deleted
