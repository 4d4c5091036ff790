"""``redis.asyncio`` clients whose failures are bounded in time and reported as ``Unavailable``.

``create_redis(url, ...)`` returns a ``GuardedRedis``: connect and socket timeouts, one
immediate retry of a command that failed on a connection error or timeout (a stale pooled
connection after a Redis restart; ``Retry(NoBackoff(), 1)``), and every ``ConnectionError`` /
``TimeoutError`` of a command, a script or a pipeline surfacing as ``pkg.errors.Unavailable``
(reason ``REDIS_UNAVAILABLE``; the server's ``ErrorInterceptor`` logs one warning line).
Adapters keep using the plain ``redis.asyncio.Redis`` API.  See
docs/adr/0013-dependency-failures-and-drain.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agora.errors.v1.reasons import SharedReason
from pkg import errors
from pkg.config import RedisSettingsMixin

REASON = SharedReason.REDIS_UNAVAILABLE


@asynccontextmanager
async def redis_errors() -> AsyncIterator[None]:
    """Map ``redis.exceptions.ConnectionError`` / ``TimeoutError`` (and the builtin
    ``TimeoutError``) raised in the block to ``pkg.errors.Unavailable``; other errors
    pass unchanged."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, TimeoutError) as error:
        raise errors.Unavailable("redis is unavailable; try again", reason=REASON) from error


class GuardedPipeline(Pipeline):
    """A ``Pipeline`` whose ``execute`` (and immediate commands under WATCH) map failures
    to ``pkg.errors.Unavailable``."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        async with redis_errors():
            return await super().execute(raise_on_error)

    async def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        async with redis_errors():
            return await super().immediate_execute_command(*args, **options)


class GuardedRedis(aioredis.Redis):
    """A ``redis.asyncio.Redis`` whose commands and pipelines raise
    ``pkg.errors.Unavailable`` (reason ``REDIS_UNAVAILABLE``) when Redis is unreachable
    or does not answer within the socket timeout."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        async with redis_errors():
            return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> GuardedPipeline:
        return GuardedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )


def create_redis(
    url: str,
    *,
    socket_timeout: float = 2.0,
    connect_timeout: float = 1.0,
    health_check_interval: float = 30.0,
) -> GuardedRedis:
    """A pooled ``GuardedRedis`` for ``url`` (``redis://host:port/db``); connects lazily.

    ``connect_timeout`` bounds establishing a connection and ``socket_timeout`` each reply
    (seconds); a command failing on a connection error or timeout is retried once at once
    on a fresh connection, so the worst case is about twice their sum.  Connections idle
    longer than ``health_check_interval`` seconds are checked with PING before reuse.
    The caller closes the client (``await client.aclose()``).
    """
    client = GuardedRedis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=health_check_interval,
    )
    assert isinstance(client, GuardedRedis)
    return client


def redis_from_settings(settings: RedisSettingsMixin) -> GuardedRedis:
    """``create_redis`` with a service's ``redis_url`` and timeouts (``pkg.config``)."""
    return create_redis(
        settings.redis_url,
        socket_timeout=settings.redis_socket_timeout_seconds,
        connect_timeout=settings.redis_connect_timeout_seconds,
    )


def redis_probe(client: aioredis.Redis) -> Callable[[], Awaitable[bool]]:
    """A health probe (``pkg.server.Probe``, beside ``pkg.db.database_probe``): ``True``
    when Redis answers ``PING``.

    Raises (the probe counts as down) when it cannot connect or the command fails.
    """

    async def probe() -> bool:
        return bool(await client.ping())

    return probe
