"""Finding processes a test started, to prove none is left behind."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import psutil


def alive(pids: Iterable[int]) -> list[int]:
    """The pids among ``pids`` that still run (zombies count as gone)."""
    result = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                result.append(pid)
        except psutil.NoSuchProcess:
            pass
    return result


def mentioning(path: Path) -> list[str]:
    """Command lines of running processes that mention ``path``."""
    needle = str(path)
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or ())
        if needle in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(cmdline)
    return found
