"""A steady, bounded load through the edge, recording every request's outcome.

``SteadyLoad`` starts one asyncio task per stream of requests; each stream sends at a fixed
rate (requests per second) until ``stop()`` is awaited or its ``limit`` of requests is
reached, whichever comes first, so a test can never leave it running. Only loopback
addresses are targeted (the mesh's edge on ``localhost``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outcome:
    """One request: which ``stream`` sent it, when it started and ended (monotonic
    seconds), whether it succeeded, and what was seen otherwise (status, body excerpt)."""

    stream: str
    started: float
    ended: float
    ok: bool
    detail: str = ""

    @property
    def seconds(self) -> float:
        """How long the request took, in seconds."""
        return self.ended - self.started


Request = Callable[[], Awaitable[tuple[bool, str]]]
"""Sends one request; returns (succeeded, what was seen)."""


@dataclass
class SteadyLoad:
    """Fixed-rate request streams; ``outcomes`` grows as their requests finish.

    Each stream is paced by schedule, not by the previous reply (an open-loop load), but
    at most ``concurrency`` of its requests are in flight at once, so a stalled edge
    cannot pile up unbounded work. ``limit`` bounds each stream's request count.
    """

    outcomes: list[Outcome] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def add(
        self, name: str, request: Request, *, rate: float, concurrency: int = 8, limit: int = 5000
    ) -> None:
        """Start stream ``name`` sending ``request`` ``rate`` times per second."""
        self._tasks.append(
            asyncio.create_task(
                self._stream(name, request, rate, concurrency, limit), name=f"load-{name}"
            )
        )

    async def _stream(
        self, name: str, request: Request, rate: float, concurrency: int, limit: int
    ) -> None:
        slots = asyncio.Semaphore(concurrency)
        pending: set[asyncio.Task[None]] = set()
        interval = 1.0 / rate
        start = time.monotonic()

        async def one() -> None:
            began = time.monotonic()
            try:
                ok, detail = await request()
            except Exception as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
            finally:
                slots.release()
            self.outcomes.append(Outcome(name, began, time.monotonic(), ok, detail))

        for index in range(limit):
            if self._stopping.is_set():
                break
            delay = start + index * interval - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stopping.wait(), delay)
                    break
                except TimeoutError:
                    pass
            await slots.acquire()
            task = asyncio.create_task(one())
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def stop(self) -> list[Outcome]:
        """Stop every stream, wait for requests in flight; return all outcomes."""
        self._stopping.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return self.outcomes

    def failures(self) -> list[Outcome]:
        """The outcomes that did not succeed so far."""
        return [o for o in self.outcomes if not o.ok]


def summary(outcomes: list[Outcome]) -> str:
    """Counts per stream and the first failures, for an assertion message."""
    lines = []
    for name in sorted({o.stream for o in outcomes}):
        mine = [o for o in outcomes if o.stream == name]
        failed = [o for o in mine if not o.ok]
        lines.append(f"{name}: {len(mine)} requests, {len(failed)} failed")
        lines += [
            f"  at +{o.started - outcomes[0].started:.2f}s after {o.seconds:.2f}s: {o.detail}"
            for o in failed[:8]
        ]
    return "\n".join(lines)
