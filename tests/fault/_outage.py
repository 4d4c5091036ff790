"""A PostgreSQL outage under load, and the figures that judge it.

``run_outage`` keeps a ``SteadyLoad`` of profile reads (HTTP/JSON and gRPC) going through
the edge, injects a fault (``stop``), lifts it (``resume``) after ``seconds``, notes when
PostgreSQL accepts connections again (a real connection answering ``SELECT 1``, polled every
50 ms), and keeps the load on for ``after`` seconds more. ``OutageFigures`` summarises the
outcomes against that timeline. Only loopback addresses are targeted.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
import httpx
import psycopg

from ._load import Outcome, SteadyLoad

RECOVERY = 3.0
"""Seconds after PostgreSQL accepts connections again by which every request succeeds."""

_UNAVAILABLE = re.compile(r"^(HTTP 503 code=14 retry-after=\S+ json |gRPC UNAVAILABLE )")


def http_outcome(response: httpx.Response) -> tuple[bool, str]:
    """(succeeded, what was seen): status, JSON ``code``, ``Retry-After``, body excerpt."""
    if response.status_code == 200:
        return True, ""
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    json = "application/json" in response.headers.get("content-type", "")
    return False, (
        f"HTTP {response.status_code} code={code} "
        f"retry-after={response.headers.get('retry-after')} "
        f"{'json' if json else 'not-json'} {response.text[:200]}"
    )


def grpc_outcome(error: grpc.aio.AioRpcError) -> tuple[bool, str]:
    """(False, status name and details) of a failed gRPC call."""
    return False, f"gRPC {error.code().name} {error.details()}"


def is_unavailable(outcome: Outcome) -> bool:
    """Whether a failed request got exactly what an outage should give: HTTP 503 with a JSON
    ``google.rpc.Status`` of code 14 and ``Retry-After``, or gRPC UNAVAILABLE."""
    return bool(_UNAVAILABLE.match(outcome.detail))


async def accepting(url: str) -> bool:
    """Whether PostgreSQL at ``url`` accepts a connection and answers ``SELECT 1`` now."""
    try:
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=1) as conn:
            await conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


async def _until_accepting(url: str, within: float) -> float:
    deadline = time.monotonic() + within
    while not await accepting(url):
        assert time.monotonic() < deadline, f"PostgreSQL not back within {within:g} s"
        await asyncio.sleep(0.05)
    return time.monotonic()


@dataclass(frozen=True)
class OutageFigures:
    """Outcomes of a load across an outage; times in monotonic seconds.

    ``faulted`` is when the fault was injected, ``back`` when PostgreSQL accepted a
    connection again.
    """

    outcomes: list[Outcome]
    faulted: float
    back: float

    @property
    def failed(self) -> list[Outcome]:
        """Every request that did not succeed."""
        return [o for o in self.outcomes if not o.ok]

    @property
    def wrong(self) -> list[Outcome]:
        """Failed requests that got anything but UNAVAILABLE (a 504, a 500, a reset ...)."""
        return [o for o in self.failed if not is_unavailable(o)]

    @property
    def first_success_after_back(self) -> float | None:
        """Seconds from ``back`` to the end of the first success that started after it."""
        ends = [o.ended for o in self.outcomes if o.ok and o.started >= self.back]
        return min(ends) - self.back if ends else None

    @property
    def failed_late(self) -> list[Outcome]:
        """Failures of requests that started ``RECOVERY`` seconds or more after ``back``."""
        return [o for o in self.failed if o.started >= self.back + RECOVERY]

    @property
    def failed_early(self) -> list[Outcome]:
        """Failures that ended before the fault was injected."""
        return [o for o in self.failed if o.ended < self.faulted]

    def report(self) -> str:
        """The figures in a few lines (printed by the tests, and their assertion message)."""
        kinds = Counter(o.detail.split(" {", 1)[0][:60] for o in self.failed)
        last = max((o.ended for o in self.failed), default=self.back) - self.back
        first = self.first_success_after_back
        slowest = max((o.seconds for o in self.failed), default=0.0)
        lines = [
            f"{len(self.outcomes)} requests, {len(self.failed)} failed, "
            f"{len(self.wrong)} not UNAVAILABLE; slowest failure {slowest:.2f} s",
            f"PostgreSQL back {self.back - self.faulted:.2f} s after the fault; first "
            f"success {'none' if first is None else f'{first:.2f} s'} after that, "
            f"last failure ended {last:+.2f} s from it",
            *(f"  {count} x {kind}" for kind, count in kinds.most_common(6)),
        ]
        lines += [
            f"  wrong at +{o.started - self.faulted:.2f}s after {o.seconds:.2f}s: {o.detail}"
            for o in self.wrong[:6]
        ]
        return "\n".join(lines)


async def run_outage(
    load: SteadyLoad,
    url: str,
    *,
    stop: Callable[[], Awaitable[None]],
    resume: Callable[[], Awaitable[None]],
    seconds: float,
    before: float = 2.0,
    after: float = 6.0,
) -> OutageFigures:
    """Let ``load`` run ``before`` seconds, ``stop``, wait ``seconds``, ``resume``, wait for
    PostgreSQL at ``url`` to accept connections (at most 60 s), run ``after`` seconds more;
    stop the load and return the figures. ``resume`` runs even when the rest fails."""
    try:
        await asyncio.sleep(before)
        faulted = time.monotonic()
        await stop()
        await asyncio.sleep(max(0.0, faulted + seconds - time.monotonic()))
    finally:
        await resume()
    try:
        back = await _until_accepting(url, 60)
        await asyncio.sleep(after)
    finally:
        outcomes = await load.stop()
    return OutageFigures(outcomes, faulted, back)
