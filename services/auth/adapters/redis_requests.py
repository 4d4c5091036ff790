"""Register ``request_id``s already used, in Redis: one key per id, for the window.

A key ``auth:register:<sha256(request_id)>`` is written with ``SET NX EX`` before the user
service is called; the id is hashed because a known ``request_id`` is what lets a caller
replay a registration.
"""

from __future__ import annotations

import hashlib
import math

import redis.asyncio as redis


class RedisRequestLog:
    """``RequestLog`` over ``redis.asyncio``; ``ttl_seconds`` is the window (rounded up).

    With a ``pkg.redis`` client, an unreachable or hung Redis raises
    ``pkg.errors.Unavailable`` (reason ``REDIS_UNAVAILABLE``).
    """

    def __init__(
        self, client: redis.Redis, *, ttl_seconds: float, prefix: str = "auth:register:"
    ) -> None:
        self._redis = client
        self._ttl = max(1, math.ceil(ttl_seconds))
        self._prefix = prefix

    async def first_use(self, request_id: str) -> bool:
        """See ``RequestLog.first_use``: whether ``SET NX`` created the key."""
        key = self._prefix + hashlib.sha256(request_id.encode()).hexdigest()
        return bool(await self._redis.set(key, 1, ex=self._ttl, nx=True))
