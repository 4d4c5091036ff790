"""A basket store per test on the session's Redis, with a key prefix of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from pkg.clock import utcnow
from services.basket.adapters.redis_baskets import RedisBasketStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    try:
        yield connection
    finally:
        await connection.aclose()


@pytest.fixture
def store(client: redis.Redis) -> RedisBasketStore:
    return RedisBasketStore(
        client, currency="EUR", clock=utcnow, prefix=f"test-{uuid.uuid4().hex[:8]}:"
    )
