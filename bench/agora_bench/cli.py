"""``python bench/run.py``: parse the options, measure every target in order, print the
tables, write docs/benchmarks.md unless ``--no-write``."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from . import environment
from .echo import bench_echo, echo_certs
from .loadgen import need_tools
from .processes import Processes
from .report import (
    COMMERCE_MARKS,
    MARK_END,
    MARK_START,
    commerce_ratios,
    cpu_ratios,
    cpu_table,
    report,
    scaling,
    table,
    validation_section,
    write_doc,
)
from .results import BENCH, DOC, ROOT, Result, Settings, log
from .targets import bench_mesh


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    """A temporary directory for data files, logs and the mesh; removed unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def parser() -> argparse.ArgumentParser:
    """The options of ``bench/run.py`` (durations in seconds)."""
    p = argparse.ArgumentParser(
        description="unary gRPC and HTTP/JSON throughput of Agora against a bare echo server"
    )
    p.add_argument("--duration", type=int, default=10, help="measured seconds per target")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before")
    p.add_argument("--connections", type=int, default=4, help="h2load connections")
    p.add_argument("--streams", type=int, default=8, help="h2load streams per connection")
    p.add_argument("--threads", type=int, default=1, help="h2load/wrk threads")
    p.add_argument("--wrk-connections", type=int, default=32, help="wrk connections")
    p.add_argument(
        "--sync-workers", type=int, default=16, help="thread pool of the sync echo server"
    )
    p.add_argument(
        "--data-dir", type=Path, default=None, help="use the mesh already up in this data directory"
    )
    p.add_argument("--no-mesh", action="store_true", help="echo baselines only")
    p.add_argument(
        "--commerce-only",
        action="store_true",
        help="echo baselines and the commerce targets only (ListProducts, AddBasketItem)",
    )
    p.add_argument("--no-write", action="store_true", help="do not touch docs/")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p


def skipped_mesh_rows() -> list[Result]:
    """The mesh rows of a ``--no-mesh`` run, unmeasured."""
    return [
        Result("user-direct", "GetUser → user service", note="--no-mesh"),
        Result("edge-grpc", "GetUser → edge, gRPC", note="--no-mesh"),
        Result("edge-http", "GET /v1/users/me → edge", note="--no-mesh"),
        Result("edge-grpc-fixed", "GetUser → edge, fixed rate", note="--no-mesh"),
        Result("edge-grpc-1w", "GetUser → edge, 1 worker", note="--no-mesh"),
    ]


def measure(
    tools: dict[str, str],
    s: Settings,
    work: Path,
    procs: Processes,
    no_mesh: bool,
    data_dir: Path | None,
    get_user: bool = True,
) -> list[Result]:
    """Every row in table order: the three echo baselines, then the mesh targets (the
    GetUser ones unless not ``get_user``, then the commerce ones)."""
    certs = echo_certs(work / "echo-certs")
    rows = [
        bench_echo(
            tools,
            s,
            work,
            procs,
            "echo-aio",
            "bare grpc.aio, health Check, h2c (baseline)",
            "aio",
            None,
        ),
        bench_echo(
            tools,
            s,
            work,
            procs,
            "echo-sync",
            "bare sync grpc.server, health Check, h2c",
            "sync",
            None,
        ),
        bench_echo(
            tools,
            s,
            work,
            procs,
            "echo-aio-mtls",
            "bare grpc.aio, health Check, mTLS via TLS-origination hop",
            "aio",
            certs,
        ),
    ]
    if no_mesh:
        rows.extend(skipped_mesh_rows())
    else:
        bench_mesh(tools, s, work, procs, rows, data_dir, get_user)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure every target, print the tables, write docs/benchmarks.md unless --no-write."""
    p = parser()
    args = p.parse_args(argv)
    if args.duration < 1 or args.duration > 120:
        p.error("--duration must be 1..120 s (loads here stay bounded)")
    s = Settings(
        args.duration,
        args.warmup,
        args.connections,
        args.streams,
        args.threads,
        args.wrk_connections,
        args.sync_workers,
    )
    tools = need_tools()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    load = environment.load_average()
    procs = Processes()
    with workdir(args.keep) as work:
        try:
            rows = measure(
                tools, s, work, procs, args.no_mesh, args.data_dir, not args.commerce_only
            )
        finally:
            procs.stop_all()
        validation = validation_section(BENCH / "validation.py")
        print("\n".join([*table(rows), "", *scaling(rows, os.cpu_count())]))
        print("\n".join(["", *cpu_table(rows), "", *cpu_ratios(rows), "", *commerce_ratios(rows)]))
        if validation:
            print("\n".join(["", *validation]))
        if not args.no_write:
            write_doc(
                DOC,
                report(
                    rows,
                    s,
                    started,
                    load,
                    environment.machine(),
                    environment.versions(tools),
                    validation,
                ),
                COMMERCE_MARKS if args.commerce_only else (MARK_START, MARK_END),
            )
            log(f"wrote {DOC.relative_to(ROOT)}")
    return 0
