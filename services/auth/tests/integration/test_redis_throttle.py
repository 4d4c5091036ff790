"""The Redis throttle: fixed windows that block at the limit and end on time."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis

from services.auth.adapters import RedisAttemptThrottle
from services.auth.domain import LoginThrottlePolicy
from services.auth.tests.integration.conftest import keys_under

pytestmark = pytest.mark.integration


async def test_counter_blocks_at_the_limit_until_the_window_ends(
    client: redis.Redis, prefix: str
) -> None:
    throttle = RedisAttemptThrottle(client, prefix=prefix)
    policy = LoginThrottlePolicy.of(per_account=3, per_address=10, window_seconds=2)
    keys = policy.keys("ann@example.com", "203.0.113.7")
    for _ in range(2):
        await throttle.record_failure(keys)
    assert await throttle.blocked(keys) is None
    await throttle.record_failure(keys)

    blocked = await throttle.blocked(keys)
    assert blocked is not None
    key, retry_after = blocked
    assert key.rule.scope == "account"
    assert 0 < retry_after <= 2
    await asyncio.sleep(retry_after + 0.1)
    assert await throttle.blocked(keys) is None


async def test_reset_clears_one_counter_and_no_subject_is_stored_in_clear(
    client: redis.Redis, prefix: str
) -> None:
    throttle = RedisAttemptThrottle(client, prefix=prefix)
    policy = LoginThrottlePolicy.of(per_account=1, per_address=1, window_seconds=60)
    account, address = policy.keys("ann@example.com", "203.0.113.7")
    await throttle.record_failure([account, address])
    stored = await keys_under(client, prefix)
    assert len(stored) == 2
    assert not any("ann" in k or "203.0" in k for k in stored)
    assert all(0 < ttl <= 60 for ttl in [await client.ttl(k) for k in stored])

    await throttle.reset(account)
    assert await throttle.blocked([account]) is None
    blocked = await throttle.blocked([account, address])
    assert blocked is not None
    assert blocked[0] == address
    assert blocked[1] == pytest.approx(60, abs=1)
