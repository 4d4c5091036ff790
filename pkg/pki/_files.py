"""Crash-safe file writes for certificates and keys."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

CERT_MODE = 0o644
KEY_MODE = 0o600
DIR_MODE = 0o700


def write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file, never a part.

    Writes a temporary file in the same directory with ``mode`` already set, fsyncs it and
    renames it over ``path`` with ``os.replace`` (atomic on POSIX).

    Raises:
        OSError: the directory is missing or not writable.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_if_changed(path: Path, data: bytes, *, mode: int) -> bool:
    """Atomically write ``data`` unless ``path`` already holds exactly it; True if written.

    Skipping identical content keeps file watchers (servers, Envoy) from reloading for
    nothing.
    """
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data, mode=mode)
    return True


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if missing and set its mode to 0700 (owner only).

    Raises:
        OSError: the directory cannot be created or is not ours to chmod.
    """
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)
