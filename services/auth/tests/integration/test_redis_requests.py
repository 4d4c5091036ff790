"""The Redis request log: a Register request_id is new once per window, stored hashed."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as redis

from services.auth.adapters import RedisRequestLog
from services.auth.tests.integration.conftest import keys_under

pytestmark = pytest.mark.integration


async def test_a_request_id_is_new_once_then_a_replay(client: redis.Redis, prefix: str) -> None:
    log = RedisRequestLog(client, ttl_seconds=3600, prefix=prefix)
    request_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    assert await log.first_use(request_id)
    assert not await log.first_use(request_id)
    assert await log.first_use(other)


async def test_the_id_is_stored_hashed_for_the_window_only(
    client: redis.Redis, prefix: str
) -> None:
    log = RedisRequestLog(client, ttl_seconds=3600, prefix=prefix)
    request_id = str(uuid.uuid4())
    await log.first_use(request_id)
    [key] = await keys_under(client, prefix)
    assert request_id not in key
    assert 0 < await client.ttl(key) <= 3600
