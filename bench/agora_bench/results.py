"""What one bench run measures and records: the load settings, one result row per target,
the paths and constants every module shares, and progress logging."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")
HEALTH_PATH = "/grpc.health.v1.Health/Check"
GET_USER_PATH = "/agora.user.v1.UserService/GetUser"
WORKERS = 2
"""User (and auth) worker processes of the mesh the bench starts."""
FIXED_RATE = 300
"""Requests per second of the fixed-rate run (open loop: p99 at a steady, known load)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """The load settings, the same for every target (recorded in the report).

    ``duration`` and ``warmup`` in seconds; ``connections`` x ``streams`` requests in flight
    for h2load, ``wrk_connections`` for wrk; ``sync_workers`` threads of ``echo-sync``.
    """

    duration: int
    warmup: int
    connections: int
    streams: int
    threads: int
    wrk_connections: int
    sync_workers: int

    def describe(self) -> list[str]:
        """Markdown bullet lines stating the settings exactly."""
        inflight = self.connections * self.streams
        return [
            f"- gRPC (h2load): `-t {self.threads} -c {self.connections} -m {self.streams}` "
            f"= {inflight} requests in flight, `--warm-up-time={self.warmup}s "
            f"-D {self.duration}` (only the {self.duration} s after warm-up are counted).",
            f"- HTTP/JSON (wrk): `-t {self.threads} -c {self.wrk_connections} "
            f"-d {self.duration}s --latency` (HTTP/1.1 keep-alive, one request in flight "
            f"per connection), after an unmeasured {self.warmup} s run of the same.",
            f"- `echo-sync`: `grpc.server` with a {self.sync_workers}-thread pool.",
            "- Every process (servers, Envoy, PostgreSQL, Redis, load generator) shares the "
            "same cores; nothing is pinned.",
        ]


@dataclasses.dataclass
class Result:
    """One row of the table; ``rps`` is None when the target was not measured.

    Latencies in milliseconds; ``cpu`` maps a process (tree) name to the cores it used
    during the measured run (CPU seconds per wall second).
    """

    name: str
    what: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    failed: int = 0
    note: str = ""
    cpu: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ValidationRow:
    """One request message type of the validation micro-benchmark: CPU µs per validation
    of a valid and of an invalid example, by protovalidate and by ``pkg.validation``.

    ``invalid`` names the rule ids the invalid example breaks (empty, and the invalid
    figures ``None``, for a type with no rule to break).
    """

    message: str
    valid_protovalidate_us: float
    valid_fast_us: float
    invalid_protovalidate_us: float | None = None
    invalid_fast_us: float | None = None
    invalid: tuple[str, ...] = ()


def log(message: str) -> None:
    """Progress on stderr, so stdout keeps only the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def redact(cmd: list[str]) -> str:
    """``cmd`` as one line for the log, bearer tokens elided."""
    return re.sub(r"(Bearer )[\w.-]+", r"\1<token>", " ".join(cmd))
