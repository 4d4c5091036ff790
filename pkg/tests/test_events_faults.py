"""Bounded, loopback fault tests of the event backbone: a relay killed between ``XADD``
and the mark, a consumer killed inside its handler, Redis restarted, PostgreSQL stopped.
Redis and PostgreSQL are reached through a ``FaultyProxy``: stopping it refuses new
connections and cuts the open ones, as a restarted or stopped server does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from google.protobuf import wrappers_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.db import create_engine, session_factory
from pkg.events import Consumer, Event, MessageBus, Relay, stream_name
from pkg.redis import create_redis
from pkg.testing import FaultyProxy
from pkg.tests._events_kit import (
    applied,
    database_url,
    deposit,
    engine,
    record_applied,
    redis,
    sessions,
    source,
    unit_of_work,
    until,
    via,
)

pytestmark = pytest.mark.integration
__all__ = ["database_url", "engine", "redis", "sessions", "source"]
Sessions = async_sessionmaker[AsyncSession]


async def _until(condition: Callable[[], Awaitable[bool]], bound: float = 30.0) -> None:
    await until(condition, bound)


async def _stop(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _bus(sessions: Sessions) -> MessageBus:
    return MessageBus({wrappers_pb2.Int64Value: record_applied(unit_of_work(sessions, "me"))})


async def test_a_relay_killed_between_xadd_and_the_mark_loses_nothing_and_applies_once(
    sessions: Sessions, redis: Any, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await deposit(unit_of_work(sessions, source), "k", [1, 1, 1])
    killed = Relay(sessions, redis, source=source)
    published = asyncio.Event()

    async def hang(session: AsyncSession, sequences: list[int]) -> None:
        published.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(killed, "_mark", hang)
    task = asyncio.create_task(killed.publish_once())
    await published.wait()
    await _stop(task)
    assert await redis.xlen(stream_name(source)) == 3

    assert await Relay(sessions, redis, source=source).publish_once() == 3
    assert await redis.xlen(stream_name(source)) == 6
    consumer = Consumer(redis, _bus(sessions), source=source, group="me")
    await consumer.ensure_group()
    while await consumer.consume_once():
        pass
    assert sorted(value for _, _, value in await applied(sessions)) == [1, 2, 3]


async def test_a_consumer_killed_in_its_handler_is_taken_over_and_applied_once(
    sessions: Sessions, redis: Any, source: str
) -> None:
    await deposit(unit_of_work(sessions, source), "d", [5])
    await Relay(sessions, redis, source=source).publish_once()
    entered = asyncio.Event()

    async def dies(payload: wrappers_pb2.Int64Value, event: Event) -> None:
        entered.set()
        await asyncio.Event().wait()

    first = Consumer(
        redis,
        MessageBus({wrappers_pb2.Int64Value: dies}),
        source=source,
        group="me",
        consumer="first",
    )
    await first.ensure_group()
    task = asyncio.create_task(first.consume_once())
    await entered.wait()
    await _stop(task)
    assert (await redis.xpending(first.stream, "me"))["pending"] == 1

    second = Consumer(
        redis, _bus(sessions), source=source, group="me", consumer="second", min_idle=0
    )
    assert await second.consume_once() == 0
    assert await second.reclaim_once() == 1
    assert await second.reclaim_once() == 0
    assert [value for _, _, value in await applied(sessions)] == [5]
    assert (await redis.xpending(first.stream, "me"))["pending"] == 0


@pytest.fixture
async def redis_proxy(redis_url: str) -> AsyncIterator[FaultyProxy]:
    from urllib.parse import urlsplit

    parts = urlsplit(redis_url)
    async with FaultyProxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        yield proxy


async def test_the_relay_and_a_consumer_resume_by_themselves_after_redis_restarts(
    sessions: Sessions,
    redis_url: str,
    redis_proxy: FaultyProxy,
    source: str,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "agora.events")
    flaky = create_redis(via(redis_url, redis_proxy.port), socket_timeout=0.5, connect_timeout=0.5)
    relay = Relay(
        sessions, flaky, source=source, listen_url=database_url, poll_interval=0.1, max_backoff=0.2
    )
    consumer = Consumer(
        flaky, _bus(sessions), source=source, group="me", block=0.1, max_backoff=0.2
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    uow = unit_of_work(sessions, source)

    async def applied_count(n: int) -> bool:
        return len(await applied(sessions)) == n

    try:
        await deposit(uow, "r", [1, 1])
        await _until(lambda: applied_count(2))
        await redis_proxy.stop()
        await deposit(uow, "r", [1, 1, 1])
        await asyncio.sleep(0.3)
        await redis_proxy.start()
        await _until(lambda: applied_count(5))
    finally:
        await _stop(*tasks)
        await flaky.aclose()
    assert sorted(value for _, _, value in await applied(sessions)) == [1, 2, 3, 4, 5]
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("event relay") and "paused" in m for m in said)
    assert any(m.startswith("consumer me") and "paused" in m for m in said)
    assert any(m.startswith("consumer me") and "resumed" in m for m in said)


async def test_the_relay_backs_off_while_postgresql_is_stopped_and_catches_up(
    sessions: Sessions, redis: Any, source: str, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from urllib.parse import urlsplit

    caplog.set_level(logging.INFO, "agora.events")

    parts = urlsplit(database_url)
    async with FaultyProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        flaky = create_engine(
            via(database_url, proxy.port), pool_size=2, connect_timeout=2, pool_timeout=1
        )
        relay = Relay(
            session_factory(flaky, timeout=2),
            redis,
            source=source,
            listen_url=via(database_url, proxy.port),
            poll_interval=0.1,
            max_backoff=0.2,
        )
        task = asyncio.create_task(relay.run())

        async def stream_length(n: int) -> bool:
            return int(await redis.xlen(stream_name(source))) == n

        try:
            await deposit(unit_of_work(sessions, source), "p", [1])
            await _until(lambda: stream_length(1))
            await proxy.stop()
            await deposit(unit_of_work(sessions, source), "p", [1, 1])
            await asyncio.sleep(0.3)
            assert await redis.xlen(stream_name(source)) == 1
            await proxy.start()
            await _until(lambda: stream_length(3))

            async def said(word: str) -> bool:  # the XADD lands before the loop logs
                return any(word in r.getMessage() for r in caplog.records)

            await _until(lambda: said("resumed"))
        finally:
            await _stop(task)
            await flaky.dispose()
    assert any("paused" in r.getMessage() for r in caplog.records)
