"""Micro-benchmark of the event backbone (``pkg.events``, ``pkg.uow``) on one machine.

Three phases in one asyncio process, against the servers named by ``TEST_DATABASE_URL`` /
``TEST_REDIS_URL`` or embedded ones started for the run (no default port assumed):

1. relay throughput: ``--events`` outbox rows committed beforehand, then the time and CPU
   (``time.process_time``, this process only: not PostgreSQL's or Redis's) one ``Relay``
   takes to ``XADD`` and mark them all;
2. consumer throughput: the same entries read by a ``Consumer`` whose handler commits one
   row and its inbox entry per event (CPU per event as above);
3. end-to-end lag at a steady ``--rate`` for ``--seconds``: a producer (this process)
   commits one event per unit of work, a relay process (woken by ``NOTIFY``) publishes, a
   consumer process applies; lag is the consumer's commit time minus the producer's (wall
   clock of one machine), and each child's CPU is divided by the events.

    python bench/events.py [--events 10000] [--rate 200] [--seconds 10]

Prints one Markdown table (the figures recorded in docs/benchmarks.md, "Event backbone").
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from google.protobuf import wrappers_pb2
from google.protobuf.message import Message
from sqlalchemy import Column, MetaData, Table, Text, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.clock import utcnow
from pkg.db import create_engine, session_factory
from pkg.events import OUTBOX, Consumer, Event, MessageBus, Relay, include_event_tables, seal
from pkg.redis import create_redis
from pkg.runtime import ensure_database, postgres_server, redis_server
from pkg.sql_uow import SqlUnitOfWork
from pkg.uow import Aggregate

METADATA = MetaData()
APPLIED = Table("bench_applied", METADATA, Column("event_id", Text, nullable=False))
include_event_tables(METADATA)
Sessions = async_sessionmaker[AsyncSession]


class Ticket:
    """A one-event aggregate: ``Ticket(n)`` records ``n`` (an int) as its event."""

    def __init__(self, number: int) -> None:
        self.events: list[object] = [number]


def to_proto(event: object) -> tuple[str, Message]:
    assert isinstance(event, int)
    return f"tickets/{event % 64}", wrappers_pb2.Int64Value(value=event)


def handler(sessions: Sessions, done: Callable[[int], None]) -> Callable[..., object]:
    uow = SqlUnitOfWork(sessions, source="bench", mapper=to_proto,
                        repositories=lambda session, seen: None)

    async def handle(payload: wrappers_pb2.Int64Value, event: Event) -> None:
        async with uow:
            if await uow.received(event.id):
                await uow.session.execute(insert(APPLIED).values(event_id=event.id))
            await uow.commit()
        done(payload.value)

    return handle


async def relay_throughput(sessions: Sessions, redis: object, count: int) -> dict[str, float]:
    rows = [{"event_id": uuid.uuid4(), "type": "google.protobuf.Int64Value",
             "subject": f"tickets/{n % 64}",
             "envelope": seal(wrappers_pb2.Int64Value(value=n), source="bench",
                              subject=f"tickets/{n % 64}", time=utcnow()).SerializeToString()}
            for n in range(count)]
    async with sessions() as session:
        await session.execute(insert(OUTBOX), rows)
        await session.commit()
    relay = Relay(sessions, redis, source="bench", batch=500)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter(), time.process_time()
    while await relay.publish_once():
        pass
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"events_per_s": relay.published / wall, "cpu_us": cpu / relay.published * 1e6}


async def consumer_throughput(sessions: Sessions, redis: object,
                              count: int) -> dict[str, float]:
    applied = 0

    def done(_: int) -> None:
        nonlocal applied
        applied += 1

    consumer = Consumer(redis, MessageBus({wrappers_pb2.Int64Value: handler(sessions, done)}),  # type: ignore[arg-type]
                        source="bench", group="bench", batch=200, block=0.05)
    await consumer.ensure_group()
    wall, cpu = time.perf_counter(), time.process_time()
    while applied < count:
        await consumer.consume_once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"events_per_s": applied / wall, "cpu_us": cpu / applied * 1e6}


def _relay_process(url: str, redis_url: str, stop: Any, out: Any) -> None:
    async def run() -> None:
        engine = create_engine(url, pool_size=2)
        redis = create_redis(redis_url)
        relay = Relay(session_factory(engine), redis, source="bench", listen_url=url,
                      poll_interval=0.5)
        task = asyncio.create_task(relay.run())
        cpu = time.process_time()
        await asyncio.to_thread(stop.wait)
        cpu = time.process_time() - cpu
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        out.put({"relay_cpu": cpu, "relayed": relay.published})
        await redis.aclose()
        await engine.dispose()

    asyncio.run(run())


def _consumer_process(url: str, redis_url: str, total: int, ready: Any, out: Any) -> None:
    async def run() -> None:
        engine = create_engine(url, pool_size=2)
        redis = create_redis(redis_url)
        applied: dict[int, float] = {}
        finished = asyncio.Event()

        def done(number: int) -> None:
            applied[number] = time.time()
            if len(applied) >= total:
                finished.set()

        consumer = Consumer(redis, MessageBus({wrappers_pb2.Int64Value: handler(
            session_factory(engine), done)}), source="bench", group="lag", block=0.5)
        await consumer.ensure_group()
        await redis.xgroup_setid(consumer.stream, "lag", "$")
        task = asyncio.create_task(consumer.run())
        ready.set()
        cpu = time.process_time()
        async with asyncio.timeout(120):
            await finished.wait()
        cpu = time.process_time() - cpu
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        out.put({"consumer_cpu": cpu, "applied": applied})
        await redis.aclose()
        await engine.dispose()

    asyncio.run(run())


async def lag(sessions: Sessions, url: str, redis_url: str, rate: float,
              seconds: float) -> dict[str, float]:
    """Producer here; relay and consumer each in a process of their own (as deployed)."""
    context = multiprocessing.get_context("spawn")
    stop, ready, out = context.Event(), context.Event(), context.Queue()
    total = int(rate * seconds)
    children = [context.Process(target=_relay_process, args=(url, redis_url, stop, out)),
                context.Process(target=_consumer_process,
                                args=(url, redis_url, total, ready, out))]
    for child in children:
        child.start()
    await asyncio.to_thread(ready.wait, 60)
    await asyncio.sleep(1.0)
    uow = SqlUnitOfWork(sessions, source="bench", mapper=to_proto,
                        repositories=lambda session, seen: seen)
    committed: dict[int, float] = {}
    start = time.perf_counter()
    for index in range(total):
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        async with uow:
            track: Callable[[Aggregate], None] = uow.repositories
            track(Ticket(10**6 + index))
            await uow.commit()
        committed[10**6 + index] = time.time()
    reports = [await asyncio.to_thread(out.get, True, 150)]
    stop.set()
    reports.append(await asyncio.to_thread(out.get, True, 60))
    for child in children:
        await asyncio.to_thread(child.join, 30)
    merged = {key: value for report in reports for key, value in report.items()}
    lags = [merged["applied"][n] - at for n, at in committed.items()]
    cuts = statistics.quantiles(lags, n=100)
    return {"p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000,
            "relay_cpu_us": merged["relay_cpu"] / total * 1e6,
            "consumer_cpu_us": merged["consumer_cpu"] / total * 1e6}


async def measure(server_url: str, redis_url: str, args: argparse.Namespace) -> None:
    url = ensure_database(server_url, f"agora_bench_events_{uuid.uuid4().hex[:8]}")
    engine = create_engine(url, pool_size=8)
    redis = create_redis(redis_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        sessions = session_factory(engine, timeout=10)
        relayed = await relay_throughput(sessions, redis, args.events)
        consumed = await consumer_throughput(sessions, redis, args.events)
        lagged = await lag(sessions, url, redis_url, args.rate, args.seconds)
    finally:
        await redis.delete("agora:events:{bench}")
        await redis.aclose()
        await engine.dispose()
    print("| measure | value |\n|---|---|")
    print(f"| relay throughput, commit -> XADD ({args.events} events) "
          f"| {relayed['events_per_s']:,.0f} events/s |")
    print(f"| relay CPU per event | {relayed['cpu_us']:.0f} µs |")
    print(f"| consumer throughput (handler commits effect + inbox) "
          f"| {consumed['events_per_s']:,.0f} events/s |")
    print(f"| consumer CPU per event | {consumed['cpu_us']:.0f} µs |")
    print(f"| end-to-end lag at {args.rate:.0f} events/s for {args.seconds:.0f} s, p50 "
          f"| {lagged['p50_ms']:.1f} ms |")
    print(f"| end-to-end lag, p99 | {lagged['p99_ms']:.1f} ms |")
    print(f"| relay CPU per event at {args.rate:.0f} events/s "
          f"| {lagged['relay_cpu_us']:.0f} µs |")
    print(f"| consumer CPU per event at {args.rate:.0f} events/s "
          f"| {lagged['consumer_cpu_us']:.0f} µs |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="agora-bench-")))
        server_url = stack.enter_context(postgres_server(root / "pg"))
        redis_url = stack.enter_context(redis_server(root / "redis"))
        asyncio.run(measure(server_url, redis_url, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
