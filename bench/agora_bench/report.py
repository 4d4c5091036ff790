"""The report: the results table (ratios against ``echo-aio``), the worker-scaling line,
the CPU table, the user service's CPU per request against the echo's, the optional
validation micro-benchmark, and the generated section of docs/benchmarks.md between its
result markers."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from .results import WORKERS, Result, Settings, ValidationRow

MARK_START = "<!-- bench:results:start -->"
MARK_END = "<!-- bench:results:end -->"
COMMERCE_MARKS = ("<!-- bench:commerce:start -->", "<!-- bench:commerce:end -->")
"""Where ``--commerce-only`` writes its run: beside the whole run's results, not over them."""


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def table(rows: list[Result]) -> list[str]:
    """The results as a Markdown table, ratios against the ``echo-aio`` row; then a note
    line per row that has one."""
    base = next((r.rps for r in rows if r.name == "echo-aio"), None)
    lines = [
        "| target | what | RPS | p50 ms | p99 ms | RPS / echo-aio | requests | failed |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for r in rows:
        ratio = None if r.rps is None or not base else r.rps / base
        lines.append(
            f"| {r.name} | {r.what} | {_fmt(r.rps, 0)} | {_fmt(r.p50_ms, 2)} | "
            f"{_fmt(r.p99_ms, 2)} | {_fmt(ratio, 3)} | {r.requests:,} | {r.failed:,} |"
        )
        if r.note:
            notes.append(f"- `{r.name}`: {r.note}")
    return lines + (["", *notes] if notes else [])


def scaling(rows: list[Result], cores: int | None) -> list[str]:
    """The worker-scaling line: GetUser RPS through the edge with 2 workers over 1
    (``edge-grpc`` / ``edge-grpc-1w``); empty when either was not measured."""
    by_name = {r.name: r for r in rows}
    two, one = by_name.get("edge-grpc"), by_name.get("edge-grpc-1w")
    if not (two and one and two.rps and one.rps):
        return []
    return [
        f"Worker scaling (GetUser through the edge, gRPC): {WORKERS} user workers "
        f"{two.rps:,.0f} RPS / 1 worker {one.rps:,.0f} RPS = **{two.rps / one.rps:.2f}x** "
        f"on {cores} cores shared with Envoy, PostgreSQL and h2load."
    ]


def cpu_table(rows: list[Result]) -> list[str]:
    """Cores each process tree used during each measured run, and CPU µs per request
    (cores / RPS); empty when nothing was metered."""
    lines = ["| target | process | cores used | CPU µs / request |", "|---|---|---:|---:|"]
    for r in rows:
        for name, cores in r.cpu.items():
            per_request = "—" if not r.rps else f"{cores / r.rps * 1e6:,.0f}"
            lines.append(f"| {r.name} | {name} | {cores:.2f} | {per_request} |")
    return lines if len(lines) > 2 else []


CPU_BASELINE = ("echo-aio-mtls", "echo server")
"""The row and process every service's CPU per request is compared with."""

CPU_GOAL = 4.0
"""Issue 6's goal: GetUser at most this many times the baseline's CPU per request."""


def _cpu_per_request(row: Result | None, process: str) -> float | None:
    if row is None or not row.rps or process not in row.cpu:
        return None
    return row.cpu[process] / row.rps * 1e6


def cpu_ratios(rows: list[Result]) -> list[str]:
    """One line per GetUser path with a single user worker (``user-direct``,
    ``edge-grpc-1w``): the ``user-1`` service's CPU µs per request over the bare echo's
    behind the same mTLS hop (``CPU_BASELINE``), against ``CPU_GOAL``; empty when the
    baseline was not measured, a dash for a path that was not."""
    by_name = {r.name: r for r in rows}
    base = _cpu_per_request(by_name.get(CPU_BASELINE[0]), CPU_BASELINE[1])
    if base is None:
        return []
    lines = []
    for name, path in (
        ("user-direct", "straight to the user service"),
        ("edge-grpc-1w", "through the edge, one user worker"),
    ):
        cost = _cpu_per_request(by_name.get(name), "user-1 service")
        ratio = (
            "—" if cost is None else (f"{cost:,.0f} µs / {base:,.0f} µs = **{cost / base:.2f}x**")
        )
        lines.append(f"- GetUser {path} (`{name}`, user-1): {ratio}")
    return [
        f"CPU per request of the user service over `{CPU_BASELINE[0]}`'s echo server "
        f"(goal: at most {CPU_GOAL:g}x):",
        "",
        *lines,
    ]


COMMERCE_GOALS = (
    ("list-http", "ListProducts (HTTP/JSON, text filter, page of 20)", ("catalog",), 5.0),
    ("additem-grpc", "AddBasketItem (gRPC) with its catalog call", ("basket", "catalog"), 4.0),
)
"""Issue 12's goals: (row, what, services whose CPU counts, at most this many times the
baseline's CPU per request)."""

P99_GOAL_MS = 20.0
"""Issue 12's goal for p99 at the fixed rate."""


def service_cpu(row: Result, service: str) -> float | None:
    """CPU µs per request of every worker of ``service`` (``<service>-N service``) in
    ``row``, summed; None when ``row`` was not measured or has no such process."""
    if not row.rps:
        return None
    cores = [c for name, c in row.cpu.items() if name.startswith(f"{service}-")]
    return sum(cores) / row.rps * 1e6 if cores else None


def commerce_ratios(rows: list[Result]) -> list[str]:
    """For each ``COMMERCE_GOALS`` row: each process's and each service's CPU µs per
    request over the baseline's (``CPU_BASELINE``), the goal's sum against its bound (and
    over the plain ``echo-aio``'s, when measured); then
    the fixed-rate p99 lines against ``P99_GOAL_MS``. Empty when nothing was measured."""
    by_name = {r.name: r for r in rows}
    base = _cpu_per_request(by_name.get(CPU_BASELINE[0]), CPU_BASELINE[1])
    plain = _cpu_per_request(by_name.get("echo-aio"), "echo server")
    lines: list[str] = []
    for name, what, services, goal in COMMERCE_GOALS:
        row = by_name.get(name)
        if base is None or row is None or not row.rps:
            continue
        parts = []
        for service in ("edge", "catalog", "basket"):
            cost = (
                _cpu_per_request(row, "edge Envoy")
                if service == "edge"
                else service_cpu(row, service)
            )
            if cost is not None:
                parts.append(f"{service} {cost:,.0f} µs = {cost / base:.2f}x")
        counted = [c for s in services if (c := service_cpu(row, s)) is not None]
        total = sum(counted)
        verdict = "met" if counted and total / base <= goal else "missed"
        bare = f", {total / plain:.2f}x `echo-aio`'s" if plain else ""
        lines.append(
            f"- {what} (`{name}`): {'; '.join(parts)}; "
            f"{' + '.join(services)} = **{total / base:.2f}x**{bare} "
            f"(goal ≤ {goal:g}x: {verdict})"
        )
    for name in ("list-http-fixed", "additem-grpc-fixed"):
        row = by_name.get(name)
        if row is not None and row.p99_ms is not None:
            verdict = "met" if row.p99_ms < P99_GOAL_MS else "missed"
            lines.append(
                f"- p99 at a fixed rate (`{name}`): {row.p99_ms:.2f} ms "
                f"(goal < {P99_GOAL_MS:g} ms: {verdict})"
            )
    if not lines:
        return []
    return [
        f"Commerce: CPU per request of each service (all its workers) over "
        f"`{CPU_BASELINE[0]}`'s echo server ({base:,.0f} µs):"
        if base
        else "Commerce:",
        "",
        *lines,
    ]


INVALID_GOAL_US = 100.0
"""Issue 10's goal: refusing an invalid request costs at most this many CPU µs per type."""


def validation_table(rows: list[ValidationRow]) -> list[str]:
    """The validation micro-benchmark as Markdown: per request message, CPU µs per valid
    and per invalid message for protovalidate and the fast path, the invalid example's
    violation count; then the goal line (the slowest invalid figure against
    ``INVALID_GOAL_US``) and which rules each invalid example breaks."""
    lines = [
        "| request message | valid: protovalidate µs | valid: fast path µs "
        "| invalid: protovalidate µs | invalid: fast path µs | violations |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.message} | {_fmt(r.valid_protovalidate_us, 1)} "
            f"| {_fmt(r.valid_fast_us, 1)} | {_fmt(r.invalid_protovalidate_us, 1)} "
            f"| {_fmt(r.invalid_fast_us, 1)} | {len(r.invalid) or '—'} |"
        )
    invalid = [r for r in rows if r.invalid_fast_us is not None]
    if not invalid:
        return lines
    worst = max(invalid, key=lambda r: r.invalid_fast_us or 0.0)
    verdict = "holds" if (worst.invalid_fast_us or 0.0) <= INVALID_GOAL_US else "is missed"
    return [
        *lines,
        "",
        f"Slowest invalid message on the fast path: {worst.message} "
        f"{_fmt(worst.invalid_fast_us, 1)} µs; the goal of at most "
        f"{INVALID_GOAL_US:g} µs per request type {verdict}.",
        "",
        "Invalid examples (rule ids broken, in protovalidate's order):",
        "",
        *[f"- {r.message}: {', '.join(r.invalid)}" for r in invalid],
    ]


def validation_section(path: Path) -> list[str]:
    """Lines under a ``### Validation`` heading from ``validation_table()`` of ``path``.

    ``path`` (``bench/validation.py``, another micro-benchmark) is optional: when it does
    not exist or defines no ``validation_table() -> list[str]``, the section is empty.
    When loading or running it fails, the section says so instead of failing the run.
    """
    if not path.is_file():
        return []
    heading = ["### Validation", ""]
    try:
        spec = importlib.util.spec_from_file_location("bench_validation", path)
        if spec is None or spec.loader is None:
            return [*heading, f"`{path.name}` cannot be loaded."]
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        produce: Callable[[], list[str]] | None = getattr(module, "validation_table", None)
        if produce is None:
            return []
        return [*heading, *produce()]
    except Exception as exc:
        return [*heading, f"`{path.name}` failed: {type(exc).__name__}: {exc}"]


def report(
    rows: list[Result],
    s: Settings,
    started: str,
    load: str,
    host: dict[str, str],
    versions: dict[str, str],
    validation: list[str],
) -> str:
    """The generated part of docs/benchmarks.md.

    ``host`` is ``environment.machine()``, ``versions`` ``environment.versions()``,
    ``validation`` from ``validation_section`` (left out when empty).
    """
    cores = int(host["nproc"]) if host["nproc"].isdigit() else None
    extra = [*validation, ""] if validation else []
    return "\n".join(
        [
            f"Run of {started} (`python bench/run.py`).",
            "",
            *table(rows),
            "",
            *scaling(rows, cores),
            "",
            "CPU use during each measured run (warm-up included; a process's children count "
            "with it, e.g. PostgreSQL backends):",
            "",
            *cpu_table(rows),
            "",
            *([*ratios, ""] if (ratios := cpu_ratios(rows)) else []),
            *([*commerce, ""] if (commerce := commerce_ratios(rows)) else []),
            *extra,
            f"Load average when the run started (other work on the machine): {load}.",
            "",
            f"Machine: `nproc` {host['nproc']}, {host['cpu']}, {host['memory']} memory; "
            f"Linux {versions['kernel']}.",
            "",
            "Versions: "
            + ", ".join(f"{k} {val}" for k, val in versions.items() if k != "kernel")
            + ".",
            "",
            "Settings:",
            "",
            *s.describe(),
        ]
    )


def replace_generated(
    text: str, generated: str, marks: tuple[str, str] = (MARK_START, MARK_END)
) -> str:
    """``text`` (docs/benchmarks.md) with ``generated`` between the ``marks`` (start, end;
    the whole run's by default); the markers are appended when missing, and whatever
    lies outside them (another block of results included) is kept."""
    start, end = marks
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{generated}\n{end}{tail}"


def write_doc(doc: Path, generated: str, marks: tuple[str, str] = (MARK_START, MARK_END)) -> None:
    """Replace the generated section between ``marks`` of ``doc`` (created with a title
    when missing)."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    doc.write_text(replace_generated(text, generated, marks))
