"""Reading the end of a process's log file."""

from __future__ import annotations

from pathlib import Path


def tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of ``path`` (empty string when it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def program_tail(log: Path, out: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a program's ``log``, followed by those of its ``out``
    (``MeshLayout.out``: what it wrote to stdout/stderr, e.g. a crash) when not empty."""
    text = tail(log, lines)
    printed = tail(out, lines)
    if printed:
        text = f"{text}\n----- {out.name} -----\n{printed}" if text else printed
    return text
