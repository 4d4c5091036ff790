"""The relay's and the consumer's loops: they end when cancelled even when a driver swallows
the ``CancelledError`` (redis-py in ``XREADGROUP BLOCK``, psycopg in ``notifies``), the
server's background runner does not restart such a loop, and the relay trims its own
stream by the stream retention."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.events import Consumer, MessageBus, Relay, stream_name
from pkg.server._server import _keep_running
from pkg.tests._events_kit import database_url, engine, redis, sessions, source, until

__all__ = ["database_url", "engine", "redis", "sessions", "source"]
BOUND = 10.0
"""Seconds a cancelled loop gets to end before the test calls it hung (a bound, not a
measure: a loop that ends does so at its next turn)."""


async def _swallow_cancel() -> None:
    """Block until cancelled, then return as if nothing happened (what a driver that
    catches ``CancelledError`` inside a blocking call does)."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return


async def _cancelled_and_ended(task: asyncio.Task[Any], started: asyncio.Event) -> bool:
    await asyncio.wait_for(started.wait(), BOUND)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=BOUND)
    if not done:  # the bug: stop it for good so the test session goes on
        for _ in range(100):
            task.cancel()
            await asyncio.sleep(0)
            if task.done():
                break
    return bool(done)


class _SwallowingRedis:
    """Answers the calls a consumer makes; ``XREADGROUP`` blocks and swallows a cancel."""

    def __init__(self) -> None:
        self.reading = asyncio.Event()

    async def xgroup_create(self, *args: Any, **kwargs: Any) -> bool:
        return True

    async def xreadgroup(self, *args: Any, **kwargs: Any) -> list[Any]:
        self.reading.set()
        await _swallow_cancel()
        return []


async def test_a_consumer_ends_when_cancelled_though_its_blocking_read_swallowed_it() -> None:
    fake = _SwallowingRedis()
    consumer = Consumer(
        fake,  # type: ignore[arg-type]
        MessageBus(),
        source="s",
        group="g",
        block=1.0,
    )
    task = asyncio.create_task(consumer.run(claim_interval=3600))
    assert await _cancelled_and_ended(task, fake.reading)
    assert task.cancelled()


async def test_a_relay_ends_when_cancelled_though_a_driver_swallowed_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    relay = Relay(None, None, source="s", poll_interval=0.01)  # type: ignore[arg-type]
    publishing = asyncio.Event()

    async def publish_once() -> int:
        publishing.set()
        await _swallow_cancel()
        return 0

    async def nothing() -> int:
        return 0

    monkeypatch.setattr(relay, "publish_once", publish_once)
    monkeypatch.setattr(relay, "purge", nothing)
    monkeypatch.setattr(relay, "trim", nothing)
    task = asyncio.create_task(relay.run())
    assert await _cancelled_and_ended(task, publishing)
    assert task.cancelled()


async def test_the_servers_background_runner_does_not_restart_a_loop_that_swallowed_cancel() -> (
    None
):
    started = asyncio.Event()
    runs = 0

    async def loop() -> None:
        nonlocal runs
        runs += 1
        started.set()
        await _swallow_cancel()

    task = asyncio.create_task(_keep_running(loop))
    assert await _cancelled_and_ended(task, started)
    assert runs == 1


@pytest.mark.integration
async def test_the_relay_trims_its_stream_by_age_and_warns_for_a_group_behind(
    sessions: async_sessionmaker[AsyncSession],
    redis: Any,
    source: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = stream_name(source)
    for second in (1, 2, 3):  # entries from 1970: older than any retention
        await redis.xadd(stream, {b"envelope": b"x"}, id=f"{second * 1000}-0")
    await redis.xgroup_create(stream, "behind", id="0")
    fresh = await redis.xadd(stream, {b"envelope": b"y"})
    relay = Relay(sessions, redis, source=source, stream_max_age=3600.0)
    caplog.set_level(logging.WARNING, logger="agora.events.retention")
    task = asyncio.create_task(relay.run())
    try:

        async def trimmed() -> bool:
            return bool(await redis.xlen(stream) == 1)

        await until(trimmed, BOUND)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [entry_id for entry_id, _ in await redis.xrange(stream)] == [fresh]
    assert any(
        "3 entries consumer group behind" in record.getMessage() for record in caplog.records
    )
