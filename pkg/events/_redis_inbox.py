"""An inbox in Redis, for services whose state is Redis: the effect and the inbox key are
written in one ``MULTI``/``EXEC`` (``WATCH`` on the inbox key), so an event is applied once.
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError


def inbox_key(service: str, event_id: str) -> str:
    """The inbox key of ``event_id`` for ``service``: ``agora:inbox:{<service>}:<id>``.  On
    Redis Cluster the keys the effect writes must carry the same ``{<service>}`` hash tag
    (one slot for one ``MULTI``)."""
    return f"agora:inbox:{{{service}}}:{event_id}"


async def apply_once(
    redis: Redis, key: str, effect: Callable[[Pipeline], object], *, ttl: float = 7 * 86400.0
) -> bool:
    """Queue ``effect``'s commands (it calls methods of the pipeline it is given, in
    ``MULTI`` mode) and ``SET key`` (expiring after ``ttl`` seconds, longer than the
    stream's retention) in one transaction, unless ``key`` exists; ``True`` when applied,
    ``False`` when the event was applied before.  A concurrent writer of ``key`` makes it
    start again (``WatchError``).  ``pkg.errors.Unavailable`` from a ``GuardedRedis``.
    """
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                if await pipe.exists(key):
                    await pipe.reset()
                    return False
                pipe.multi()
                effect(pipe)
                pipe.set(key, b"1", px=int(ttl * 1000))
                await pipe.execute()
                return True
            except WatchError:
                continue
