"""``make bench-events``: the event backbone (``pkg.events``, ``pkg.uow``) on one machine.

The relay and the consumer each run in a process of their own (``agora_bench.event_roles``),
as a service runs them, so each one's CPU is its own; PostgreSQL (postmaster and backends)
and Redis are metered too, and the producer (this process).  CPU is user + system seconds
from psutil (``/proc``), per event handled.  Servers: ``TEST_DATABASE_URL`` /
``TEST_REDIS_URL`` when set (local servers are metered when their listening process is
found), else embedded ones started for the run.

1. **Relay throughput**: ``--events`` outbox rows committed beforehand (by units of work of
   500 events each), then one relay process publishes them all; events/s from its start to
   its last ``XADD`` and mark.
2. **Consumer throughput**: a consumer process applies those entries (inbox row + one
   effect row, one commit per event); events/s.
3. **End-to-end lag** at a steady ``--rate`` for ``--seconds`` (after one second of the same
   load, not counted): this process commits one event per unit of work, the relay process
   (woken by ``NOTIFY``) publishes, the consumer process applies; the lag of an event is the
   consumer's commit time minus the producer's (one machine's wall clock); p50 and p99.

    python bench/events.py [--events 10000] [--rate 200] [--seconds 20] [--no-write]

Prints Markdown and writes it into docs/benchmarks.md between the ``bench:events`` markers.
The figures are ratios of one run on a shared machine, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agora_bench.cpu import listening_pids, tree_cpu
from agora_bench.environment import load_average, machine
from agora_bench.event_roles import METADATA, Child, spawn_role, unit_of_work
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.db import create_engine, session_factory
from pkg.events import include_event_tables
from pkg.redis import create_redis
from pkg.runtime import ensure_database, postgres_server, redis_server

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
MARK_START, MARK_END = "<!-- bench:events:start -->", "<!-- bench:events:end -->"
include_event_tables(METADATA)
Sessions = async_sessionmaker[AsyncSession]


class Meter:
    """CPU seconds of named process trees between ``start()`` and ``stop()``."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self._before: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self._before = {name: tree_cpu(pid) for name, pid in self.roots.items()}

    def stop(self) -> dict[str, float]:
        for name, pid in self.roots.items():
            after = tree_cpu(pid)
            self.used[name] = sum(t - self._before[name].get(p, 0.0) for p, t in after.items())
        return self.used


def _servers(url: str, redis_url: str) -> dict[str, int]:
    ports = {"postgres": urlsplit(url).port or 5432, "redis": urlsplit(redis_url).port or 6379}
    return listening_pids(ports)


async def _produce(
    sessions: Sessions, numbers: range, *, per_commit: int = 1, rate: float | None = None
) -> dict[int, float]:
    """Commit ``numbers`` as events, ``per_commit`` per unit of work, at ``rate`` commits/s
    (``None``: as fast as possible); each number's commit time (``time.time()``)."""
    uow = unit_of_work(sessions)
    committed: dict[int, float] = {}
    start = time.perf_counter()
    chunks = [numbers[i : i + per_commit] for i in range(0, len(numbers), per_commit)]
    for index, chunk in enumerate(chunks):
        if rate is not None:
            await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        async with uow:
            for number in chunk:
                uow.seen(_Ticket(number))
            await uow.commit()
        at = time.time()
        committed.update((number, at) for number in chunk)
    return committed


class _Ticket:
    def __init__(self, number: int) -> None:
        self.events: list[object] = [number]


async def _drain(
    role: str, url: str, redis_url: str, count: int, servers: dict[str, int], **options: Any
) -> dict[str, float]:
    """One role's run over ``count`` events already waiting: events/s, CPU per event."""
    child = spawn_role(role, url, redis_url, expect=count, **options)
    try:
        await asyncio.to_thread(child.wait_for, "ready", 60)
        meter = Meter({role: child.pid, **servers})
        meter.start()
        wall = time.perf_counter()
        child.pipe.send("go")
        report = await asyncio.to_thread(child.wait_for, "done", 300)
        wall = time.perf_counter() - wall
        used = meter.stop()
    finally:
        await asyncio.to_thread(child.end)
    handled = int(report["count"])
    return {
        "rate": handled / wall,
        "handled": handled,
        **{f"cpu_{name}": seconds / handled * 1e6 for name, seconds in used.items()},
    }


async def _lag(
    sessions: Sessions,
    url: str,
    redis_url: str,
    rate: float,
    seconds: float,
    servers: dict[str, int],
) -> dict[str, float]:
    warm, total = int(rate), int(rate * seconds)
    first = 10**7
    relay = spawn_role("relay", url, redis_url, expect=0)
    consumer = spawn_role("consumer", url, redis_url, expect=warm + total, group="lag", start="$")
    children: list[Child] = [relay, consumer]
    try:
        for child in children:
            await asyncio.to_thread(child.wait_for, "ready", 60)
            child.pipe.send("go")
        await _produce(sessions, range(first, first + warm), rate=rate)
        meter = Meter({"relay": relay.pid, "consumer": consumer.pid, **servers})
        producer = time.process_time()
        meter.start()
        committed = await _produce(sessions, range(first + warm, first + warm + total), rate=rate)
        producer = time.process_time() - producer
        report = await asyncio.to_thread(consumer.wait_for, "done", 120)
        used = meter.stop()
    finally:
        for child in children:
            await asyncio.to_thread(child.end)
    lags = [report["times"][n] - at for n, at in committed.items()]
    cuts = statistics.quantiles(lags, n=100)
    return {
        "p50": cuts[49] * 1000,
        "p99": cuts[98] * 1000,
        "max": max(lags) * 1000,
        "events": total,
        "cpu_producer": producer / total * 1e6,
        **{f"cpu_{name}": value / total * 1e6 for name, value in used.items()},
    }


def _echo_baseline(doc: Path) -> tuple[float, str] | None:
    """CPU µs per RPC of the ``echo-aio`` server in docs/benchmarks.md's last ``make bench``
    results, with that run's date; ``None`` when the page has none."""
    text = doc.read_text() if doc.exists() else ""
    cpu = re.search(r"^\| echo-aio \| echo server \| [\d.]+ \| ([\d,]+) \|$", text, re.M)
    run = re.search(r"^Run of ([^(]+?) \(`python bench/run.py`\)", text, re.M)
    if cpu is None:
        return None
    return float(cpu.group(1).replace(",", "")), run.group(1) if run else "?"


def _us(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def report(
    args: argparse.Namespace,
    drained: dict[str, dict[str, float]],
    lagged: dict[str, float],
    echo: tuple[float, str] | None,
    load: str,
) -> str:
    """The Markdown written between the ``bench:events`` markers."""
    relay, consumer = drained["relay"], drained["consumer"]
    lines = [
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (`python bench/events.py "
        f"--events {args.events} --rate {args.rate:g} --seconds {args.seconds:g}`).",
        "",
        "| measure | value | goal |",
        "|---|---:|---|",
        f"| relay throughput, committed rows → `XADD` + mark ({relay['handled']:,.0f} events) "
        f"| {relay['rate']:,.0f} events/s | ≥ 2,000 events/s |",
        f"| consumer throughput, entry → inbox + effect committed ({consumer['handled']:,.0f} "
        f"events) | {consumer['rate']:,.0f} events/s | |",
        f"| end-to-end lag at {args.rate:g} events/s, producer's commit → consumer's commit, "
        f"p50 | {lagged['p50']:.1f} ms | |",
        f"| end-to-end lag, p99 ({lagged['events']:,.0f} events) | {lagged['p99']:.1f} ms "
        f"| ≤ 100 ms |",
        f"| end-to-end lag, max | {lagged['max']:.1f} ms | |",
        "",
        "CPU per event (µs, user + system, psutil; PostgreSQL counts its postmaster and backends):",
        "",
        f"| process | relay drain | consumer drain | steady {args.rate:g} events/s |",
        "|---|---:|---:|---:|",
    ]
    for name in ("relay", "consumer", "postgres", "redis", "producer"):
        lines.append(
            f"| {name} | {_us(relay.get(f'cpu_{name}'))} "
            f"| {_us(consumer.get(f'cpu_{name}'))} "
            f"| {_us(lagged.get(f'cpu_{name}'))} |"
        )
    if echo is not None:
        base, run = echo
        lines += [
            "",
            f"Against the bare `grpc.aio` echo's {base:,.0f} µs of CPU per RPC "
            f"(`echo-aio`, run of {run}): at {args.rate:g} events/s the relay spends "
            f"**{lagged['cpu_relay'] / base:.2f}x** and the consumer "
            f"**{lagged['cpu_consumer'] / base:.2f}x** of one echo RPC per event; "
            f"draining, {relay['cpu_relay'] / base:.2f}x and "
            f"{consumer['cpu_consumer'] / base:.2f}x.",
        ]
    host = machine()
    lines += [
        "",
        f"Load average when the run started: {load}. Machine: `nproc` "
        f"{host['nproc']}, {host['cpu']}.",
    ]
    return "\n".join(lines)


def write_doc(doc: Path, generated: str) -> None:
    """Put ``generated`` between the ``bench:events`` markers of ``doc`` (appended at the
    end when the markers are missing)."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if MARK_START not in text or MARK_END not in text:
        text = text.rstrip("\n") + f"\n\n{MARK_START}\n{MARK_END}\n"
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    doc.write_text(f"{head}{MARK_START}\n{generated}\n{MARK_END}{tail}")


async def measure(server_url: str, redis_url: str, args: argparse.Namespace) -> str:
    load = load_average()
    url = ensure_database(server_url, f"agora_bench_events_{uuid.uuid4().hex[:8]}")
    engine = create_engine(url, pool_size=4)
    redis = create_redis(redis_url)
    servers = _servers(url, redis_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        sessions = session_factory(engine, timeout=30)
        await _produce(sessions, range(args.events), per_commit=500)
        drained = {"relay": await _drain("relay", url, redis_url, args.events, servers)}
        drained["consumer"] = await _drain(
            "consumer", url, redis_url, args.events, servers, group="drain"
        )
        lagged = await _lag(sessions, url, redis_url, args.rate, args.seconds, servers)
    finally:
        await redis.delete("agora:events:{bench}")
        await redis.aclose()
        await engine.dispose()
    return report(args, drained, lagged, _echo_baseline(DOC), load)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if not (0 < args.events <= 200_000 and 0 < args.rate <= 5_000 and 0 < args.seconds <= 120):
        parser.error("--events 1..200000, --rate 1..5000, --seconds 1..120")
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="agora-bench-")))
        server_url = stack.enter_context(postgres_server(root / "pg"))
        redis_url = stack.enter_context(redis_server(root / "redis"))
        generated = asyncio.run(measure(server_url, redis_url, args))
    print(generated)
    if not args.no_write:
        write_doc(DOC, generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
