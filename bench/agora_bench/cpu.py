"""CPU metering of the processes under load: each server's process tree (found by its
listening port) and the load generator, as cores used during a measured run (psutil)."""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Iterator

import psutil

from .results import Result


def listening_pids(ports: dict[str, int]) -> dict[str, int]:
    """The pid listening on each named TCP port (any local address), where one is found."""
    listeners: dict[int, int] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid is not None and conn.laddr:
            listeners.setdefault(conn.laddr.port, conn.pid)
    return {name: listeners[port] for name, port in ports.items() if port in listeners}


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds (user + system) of ``root`` and each of its descendants, by pid.

    Processes that are gone (or not readable) are left out.
    """
    seen: dict[int, float] = {}
    try:
        parent = psutil.Process(root)
        family = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return seen
    for process in family:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seen[process.pid] = times.user + times.system
    return seen


@contextlib.contextmanager
def cpu_meter(result: Result, roots: dict[str, int], generator: str) -> Iterator[None]:
    """Record in ``result.cpu`` the cores each process tree used while the block ran.

    ``roots`` names the server-side processes (their descendants count too, e.g.
    PostgreSQL backends; a process started during the block counts from zero); the load
    generator (``generator``) is measured as this process's waited-for children. Values are
    CPU seconds per wall second: 1.0 = one full core.
    """
    before = {name: tree_cpu(pid) for name, pid in roots.items()}
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    yield
    wall = time.monotonic() - start
    after = {name: tree_cpu(pid) for name, pid in roots.items()}
    kids_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for name, pids in after.items():
        used = sum(t - before[name].get(pid, 0.0) for pid, t in pids.items())
        result.cpu[name] = used / wall
    result.cpu[generator] = (
        (kids_after.ru_utime - kids.ru_utime) + (kids_after.ru_stime - kids.ru_stime)
    ) / wall
