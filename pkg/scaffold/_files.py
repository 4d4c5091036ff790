"""Writing a set of files all or nothing: checked first, rolled back on a failed write."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pkg.scaffold._names import ScaffoldError


def check_writable(root: Path, paths: list[str]) -> None:
    """Raise ``ScaffoldError`` unless each of ``paths`` (relative to ``root``) can be
    written: every existing ancestor is a folder this process may write into (or pass
    through), and an existing target is a regular file it may write. Permission bits bind
    only a non-root process; a file where a folder must be binds everyone."""
    problems = []
    for relative in paths:
        path = root / relative
        if path.exists() and (not path.is_file() or not os.access(path, os.W_OK)):
            problems.append(f"{relative} is not a writable file")
            continue
        parent = path.parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            problems.append(f"{parent.relative_to(root)} is not a folder (for {relative})")
        elif not os.access(parent, os.W_OK | os.X_OK):
            problems.append(f"{parent.relative_to(root)} is not writable (for {relative})")
    if problems:
        raise ScaffoldError("cannot write: " + "; ".join(sorted(set(problems))))


def write_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` (the one place ``write_all`` writes)."""
    path.write_bytes(content)


def write_all(root: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (path relative to ``root`` -> content), creating folders as needed.

    All or nothing: when a write fails, the files written so far get their former content
    back (or are removed) and the folders created are removed, then ``ScaffoldError`` says
    which write failed; the message also names anything the rollback could not undo.
    """
    originals = {
        relative: (root / relative).read_bytes() if (root / relative).is_file() else None
        for relative in files
    }
    done: list[str] = []
    created: list[Path] = []
    try:
        for relative, content in files.items():
            path = root / relative
            for folder in reversed(path.parents):
                if not folder.exists():
                    folder.mkdir()
                    created.append(folder)
            done.append(relative)
            write_file(path, content)
    except OSError as exc:
        left = _roll_back(root, done, originals, created)
        raise ScaffoldError(
            f"writing {done[-1] if done else 'a folder'} failed ({exc}); "
            + (f"could not undo: {', '.join(left)}" if left else "nothing was changed")
        ) from exc


def _roll_back(
    root: Path, done: list[str], originals: Mapping[str, bytes | None], created: list[Path]
) -> list[str]:
    left = []
    for relative in reversed(done):
        path, original = root / relative, originals[relative]
        try:
            if original is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(original)
        except OSError:
            left.append(relative)
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            left.append(folder.relative_to(root).as_posix() + "/")
    return left
