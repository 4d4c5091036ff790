"""The bench's own background processes (echo servers, TLS-origination Envoys), each
stopped by its pid, and the waits for them to listen. The mesh is ``agora up``'s."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from pkg.runtime import port_is_open, tail


def run(cmd: list[str], timeout: float, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to completion, capturing text output (never raises on exit code).

    ``timeout`` in seconds; raises ``subprocess.TimeoutExpired`` past it.
    """
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)


class Processes:
    """Background processes started by the bench, each stopped by its own pid."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, cmd: list[str], log_path: Path) -> subprocess.Popen[bytes]:
        """Start ``cmd`` with stdout and stderr to ``log_path``."""
        with log_path.open("wb") as out:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.procs.append(proc)
        return proc

    @staticmethod
    def stop(proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM ``proc``, SIGKILL after 5 s."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def stop_all(self) -> None:
        """Stop every process still running, newest first."""
        for proc in reversed(self.procs):
            self.stop(proc)


def wait_port(
    port: int, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 15.0
) -> None:
    """Wait until 127.0.0.1:``port`` accepts a TCP connection.

    Raises ``RuntimeError`` with the end of ``log_path`` when ``proc`` exits first or
    ``timeout`` seconds pass.
    """
    deadline = time.monotonic() + timeout
    while not port_is_open("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port}: {tail(log_path, 5)}")
        time.sleep(0.1)


def wait_ready_line(log_path: Path, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """The port from the ``READY <port>`` line an echo server prints.

    Raises ``RuntimeError`` with the end of its log when it exits first or ``timeout``
    seconds pass.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"READY (\d+)", log_path.read_text(errors="replace"))
        if match:
            return int(match.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"echo server did not start: {tail(log_path, 5)}")
