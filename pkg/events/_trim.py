"""Stream retention: trimming by age or length, warning before unacknowledged entries go."""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.asyncio import Redis

_log = logging.getLogger("agora.events.retention")


def _parse(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def trim_stream(redis: Redis, stream: str, *, max_age: float | None = None,
                      max_len: int | None = None) -> int:
    """Delete the entries of ``stream`` older than ``max_age`` seconds and/or beyond the
    newest ``max_len`` (whichever drops more; nothing when both are ``None``) with
    ``XTRIM MINID``; the number deleted.

    Before trimming, each consumer group (``XINFO GROUPS``) whose pending entries or
    not-yet-delivered entries fall below the cut gets one warning line naming the group
    and how many of its entries are dropped unacknowledged.
    """
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
            pending: Any = await redis.xpending_range(stream, name, min="-",
                                                      max=f"({cut_id}", count=10_000)
            lost += len(pending)
        delivered = _text(group["last-delivered-id"])
        if _parse(delivered) < cut:
            undelivered: Any = await redis.xrange(stream, min=f"({delivered}",
                                                  max=f"({cut_id}", count=10_000)
            lost += len(undelivered)
        if lost:
            _log.warning("trimming %s drops %d entries consumer group %s has not "
                         "acknowledged", stream, lost, name)
    return int(await redis.xtrim(stream, minid=cut_id, approximate=False))
