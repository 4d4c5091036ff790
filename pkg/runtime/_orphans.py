"""Stopping a mesh's programs that outlived a killed supervisord (Linux ``/proc``).

supervisord gives each program ``SUPERVISOR_SERVER_URL=unix://<socket>`` in its environment,
and the socket path is unique per data directory (``MeshLayout.socket``), so it names the
mesh a process belongs to even after supervisord is gone. Redis overwrites its environment
with its process title, so a process also counts when it is still in the session of the
dead supervisord (whose pid ``supervisord.pid`` keeps) and works in the data directory.
Programs that write to their log soon die by themselves (the pipe to supervisord is
closed: SIGPIPE); PostgreSQL and Redis stay. Each program leads its own
process group (supervisord calls ``setpgrp``), so it is stopped as supervisord would have:
its ``stopsignal`` to the group (``stopasgroup``) or to the process, then ``SIGKILL`` to
the group. Elsewhere than Linux nothing is found and the processes must be stopped by hand.
"""

from __future__ import annotations

import configparser
import os
import signal
import time
from pathlib import Path

from pkg.runtime._mesh import MeshLayout

_PROC = Path("/proc")


def _environment(pid: int) -> dict[str, str]:
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode("utf-8", "replace").partition("=") for item in raw.split(b"\0"))
    return {key: value for key, _, value in pairs if key}


def _command_name(pid: int) -> str:
    try:
        return (_PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return "?"


def _in_data_dir(pid: int, layout: MeshLayout) -> bool:
    try:
        cwd = Path(os.readlink(_PROC / str(pid) / "cwd"))
    except OSError:
        return False
    return cwd == layout.data_dir or layout.data_dir in cwd.parents


def _dead_supervisord(layout: MeshLayout) -> int | None:
    try:
        pid = int(layout.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return None if _running(pid) else pid


def orphaned_programs(layout: MeshLayout) -> dict[int, str]:
    """Program processes of the mesh in ``layout`` still running: pid to program name
    (the executable's name when the environment does not say).

    Only group leaders count (the processes supervisord started, not their children).
    Empty where ``/proc`` does not exist. Meaningful only while supervisord does not run.
    """
    if not _PROC.is_dir():
        return {}
    url = f"unix://{layout.socket}"
    session = _dead_supervisord(layout)
    found = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            if os.getpgid(pid) != pid or not _running(pid):
                continue
            sid = os.getsid(pid)
        except OSError:
            continue
        env = _environment(pid)
        if env.get("SUPERVISOR_SERVER_URL") == url or (
            session is not None and sid == session and _in_data_dir(pid, layout)
        ):
            found[pid] = env.get("SUPERVISOR_PROCESS_NAME") or _command_name(pid)
    return found


def _stop_rule(layout: MeshLayout, name: str) -> tuple[signal.Signals, bool]:
    parser = configparser.RawConfigParser()
    parser.read(layout.supervisord_conf)
    section = f"program:{name}"
    stopsignal = parser.get(section, "stopsignal", fallback="TERM")
    as_group = parser.get(section, "stopasgroup", fallback="true") == "true"
    return signal.Signals[f"SIG{stopsignal}"], as_group


def _signal(pid: int, signum: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_orphans(layout: MeshLayout, timeout: float) -> list[str]:
    """Stop every ``orphaned_programs(layout)``; return their names (empty: none ran).

    Waits up to ``timeout`` seconds for them to exit, then kills their process groups.
    """
    orphans = orphaned_programs(layout)
    for pid, name in orphans.items():
        signum, as_group = _stop_rule(layout, name)
        _signal(pid, signum, group=as_group)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_running(pid) for pid in orphans):
        time.sleep(0.1)
    for pid in orphans:
        if _running(pid):
            _signal(pid, signal.SIGKILL, group=True)
    return sorted(orphans.values())


def _running(pid: int) -> bool:
    try:
        state = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
