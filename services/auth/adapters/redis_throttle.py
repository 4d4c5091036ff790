"""Failed-attempt counters in Redis, one fixed window per counter.

A counter ``auth:throttle:<scope>:<sha256(subject)>`` is created with the rule's window
as its TTL at the first failure and incremented by later ones (``SET NX EX`` + ``INCR``
in one MULTI, which Redis 6.2 supports; ``EXPIRE NX`` needs 7.0).  Subjects are hashed so
that no email address or client address is stored in clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import redis.asyncio as redis

from services.auth.domain import ThrottleKey


class RedisAttemptThrottle:
    """``AttemptThrottle`` over ``redis.asyncio`` (see the module docstring).

    With a ``pkg.redis`` client, an unreachable or hung Redis raises
    ``pkg.errors.Unavailable`` (reason ``REDIS_UNAVAILABLE``).
    """

    def __init__(self, client: redis.Redis, *, prefix: str = "auth:throttle:") -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, key: ThrottleKey) -> str:
        digest = hashlib.sha256(key.subject.encode()).hexdigest()
        return f"{self._prefix}{key.rule.scope}:{digest}"

    async def blocked(self, keys: Sequence[ThrottleKey]) -> tuple[ThrottleKey, float] | None:
        """See ``AttemptThrottle.blocked``; the delay comes from the counter's PTTL."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(self._key(key))
                pipe.pttl(self._key(key))
            replies = await pipe.execute()
        for i, key in enumerate(keys):
            count, pttl = replies[2 * i], replies[2 * i + 1]
            if count is not None and int(count) >= key.rule.limit:
                seconds = pttl / 1000 if pttl and pttl > 0 else key.rule.window_seconds
                return key, float(seconds)
        return None

    async def record_failure(self, keys: Sequence[ThrottleKey]) -> None:
        """See ``AttemptThrottle.record_failure``."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.set(self._key(key), 0, ex=key.rule.window_seconds, nx=True)
                pipe.incr(self._key(key))
            await pipe.execute()

    async def reset(self, key: ThrottleKey) -> None:
        """See ``AttemptThrottle.reset``."""
        await self._redis.delete(self._key(key))
