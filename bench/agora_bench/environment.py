"""What the report records about the run's surroundings: the machine, the versions of
everything that took part, and the load average when it started."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from .processes import run


def _first_match(cmd: list[str] | None, pattern: str = r"(.+)") -> str:
    if cmd is None:
        return "?"
    try:
        proc = run(cmd, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    match = re.search(pattern, proc.stdout + proc.stderr)
    return match.group(1).strip() if match else "?"


def _dist(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions(tools: dict[str, str]) -> dict[str, str]:
    """Versions of everything that took part (``?`` where a tool does not say)."""
    openssl = tools.get("openssl")
    return {
        "kernel": platform.release(),
        "python": platform.python_version(),
        "grpcio": _dist("grpcio"),
        "protobuf": _dist("protobuf"),
        "envoy": _first_match([tools["envoy"], "--version"], r"version: \S+/([\d.]+)/"),
        "h2load": _first_match([tools["h2load"], "--version"], r"(nghttp2/\S+)"),
        "wrk": _first_match([tools["wrk"], "-v"], r"wrk (\S+)"),
        "openssl": _first_match([openssl, "version"] if openssl else None),
    }


def machine() -> dict[str, str]:
    """``nproc``, CPU model and memory (GiB) of this machine, from ``/proc``."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": memory}


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, space-separated."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
