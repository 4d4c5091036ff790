"""A Redis client per test, with a key prefix of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield connection
    finally:
        await connection.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}:"


async def keys_under(client: redis.Redis, prefix: str) -> list[str]:
    return [key async for key in client.scan_iter(match=f"{prefix}*")]
