"""The event benchmark's relay and consumer, each run in a process of its own.

``spawn_role(role, ...)`` starts ``python -c`` through ``multiprocessing`` (spawn) running
``pkg.events.Relay.run`` or ``pkg.events.Consumer.run`` as a service would; the parent talks
to it over one ``Pipe``: the child sends ``"ready"`` once its pools are connected, waits for
``"go"``, and reports ``{"done": True, ...}`` when it has handled ``expect`` events (or on
``"stop"``).  The consumer's handler applies each event as a service does (its own unit of
work: inbox row plus one effect row, one commit) and records the wall-clock time
(``time.time()``, seconds) right after that commit, by the payload's number.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from google.protobuf import wrappers_pb2
from google.protobuf.message import Message
from sqlalchemy import Column, MetaData, Table, Text, insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.db import create_engine, session_factory
from pkg.events import Consumer, Event, EventTypes, MessageBus, Relay
from pkg.redis import create_redis
from pkg.sql_uow import SqlUnitOfWork

SOURCE = "bench"
METADATA = MetaData()
APPLIED = Table("bench_applied", METADATA, Column("event_id", Text, nullable=False))


def to_proto(event: object) -> tuple[str, Message]:
    """The bench's mapper: an ``int`` event to ``tickets/<n mod 64>`` and its number."""
    if not isinstance(event, int):
        raise TypeError(f"no contract message for {type(event).__name__}")
    return f"tickets/{event % 64}", wrappers_pb2.Int64Value(value=event)


def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> SqlUnitOfWork[Any]:
    """The producer's and the handler's unit of work (no repositories of their own)."""
    return SqlUnitOfWork(
        sessions,
        source=SOURCE,
        mapper=to_proto,
        repositories=lambda session, seen: seen,
        events=EventTypes.of(wrappers_pb2.Int64Value),
    )


@dataclass
class Child:
    """A running role: its process and the parent's end of the pipe."""

    process: Any
    pipe: Connection
    role: str

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def wait_for(self, key: str, bound: float) -> Any:
        """The next message from the child; ``TimeoutError`` after ``bound`` seconds,
        ``RuntimeError`` when the child died."""
        if not self.pipe.poll(bound):
            raise TimeoutError(f"the {self.role} process sent no {key!r} in {bound:.0f} s")
        try:
            message = self.pipe.recv()
        except EOFError as error:
            raise RuntimeError(f"the {self.role} process ended early") from error
        if key not in (message if isinstance(message, dict) else {message: None}):
            raise RuntimeError(f"the {self.role} process sent {message!r}, not {key!r}")
        return message

    def end(self, bound: float = 30.0) -> None:
        """Tell the child to stop (when it still listens) and join it."""
        try:
            self.pipe.send("stop")
        except (BrokenPipeError, OSError):
            pass
        self.process.join(bound)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def spawn_role(
    role: str, url: str, redis_url: str, *, expect: int, group: str = "bench", start: str = "0"
) -> Child:
    """Start ``role`` (``relay`` or ``consumer``) in a process of its own; ``expect`` events
    end its run (0: only ``"stop"`` does); a consumer's ``group`` is created at ``start``."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(
        target=_main, args=(role, url, redis_url, expect, group, start, child), daemon=True
    )
    process.start()
    child.close()
    return Child(process, parent, role)


def _main(
    role: str, url: str, redis_url: str, expect: int, group: str, start: str, pipe: Connection
) -> None:
    asyncio.run(_run(role, url, redis_url, expect, group, start, pipe))


async def _run(
    role: str, url: str, redis_url: str, expect: int, group: str, start: str, pipe: Connection
) -> None:
    engine = create_engine(url, pool_size=4)
    redis = create_redis(redis_url)
    sessions = session_factory(engine, timeout=10)
    times: dict[int, float] = {}
    finished = asyncio.Event()
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        await redis.ping()
        if role == "relay":
            relay = Relay(sessions, redis, source=SOURCE, listen_url=url)
            loop: Callable[[], Any] = relay.run
            count: Callable[[], int] = lambda: relay.published  # noqa: E731
        else:
            consumer = Consumer(
                redis,
                MessageBus({wrappers_pb2.Int64Value: _applier(sessions, times, expect, finished)}),
                source=SOURCE,
                group=group,
            )
            await redis.xgroup_create(consumer.stream, group, id=start, mkstream=True)
            loop, count = consumer.run, lambda: len(times)
        pipe.send("ready")
        await asyncio.to_thread(pipe.recv)
        task = asyncio.create_task(loop())
        waiters = [asyncio.create_task(asyncio.to_thread(pipe.recv))]
        if expect:
            waiters.append(
                asyncio.create_task(finished.wait())
                if role == "consumer"
                else asyncio.create_task(_until(lambda: count() >= expect))
            )
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        pipe.send({"done": True, "count": count(), "times": times})
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await redis.aclose()
        await engine.dispose()


async def _until(condition: Callable[[], bool]) -> None:
    # The relay has no completion event of its own to wait on: look every 10 ms (about 1 %
    # of the relay process's CPU while draining, counted in its figure).
    for _ in range(60_000):
        if condition():
            return
        await asyncio.sleep(0.01)


def _applier(
    sessions: async_sessionmaker[AsyncSession],
    times: dict[int, float],
    expect: int,
    finished: asyncio.Event,
) -> Callable[..., Any]:
    import time

    uow = unit_of_work(sessions)

    async def apply(payload: wrappers_pb2.Int64Value, event: Event) -> None:
        async with uow:
            if await uow.received(event.id):
                await uow.session.execute(insert(APPLIED).values(event_id=event.id))
            await uow.commit()
        times[payload.value] = time.time()
        if expect and len(times) >= expect:
            finished.set()

    return apply
