"""Generated credentials and private files of a local mesh.

A secret is a file of one line (48 hex digits, 192 bits from ``secrets.token_hex``) with
mode 0600 in a folder with mode 0700; it is made on first use and read afterwards.
``redact_url`` takes the password out of a URL before it is printed or recorded.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

SECRET_BYTES = 24
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and set it to mode 0700; return it.

    Raises ``PermissionError`` when ``path`` belongs to another user (it could then be
    opened up again by its owner), ``OSError`` when it cannot be created.
    """
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(
            f"{path} belongs to uid {info.st_uid} (or is a symlink), "
            f"not to this user (uid {os.getuid()})"
        )
    if stat.S_IMODE(info.st_mode) != PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)
    return path


def make_private_file(path: Path) -> None:
    """Set an existing regular file ``path`` to mode 0600 (nothing when it is missing)."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_IMODE(path.lstat().st_mode) != PRIVATE_FILE and path.is_file():
            path.chmod(PRIVATE_FILE)


def read_or_create_secret(path: Path) -> str:
    """The secret in ``path``, generated there first when the file does not exist.

    A missing folder is created with mode 0700 (an existing one is left as it is); the
    file is created with mode 0600 (``O_EXCL``, so two processes never write different
    secrets) and an existing file wider than 0600 is narrowed. Returns the secret (hex
    digits, no newline). Raises ``ValueError`` when the file exists but is empty,
    ``OSError`` when it cannot be read or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    value = secrets.token_hex(SECRET_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    except FileExistsError:
        make_private_file(path)
        stored = path.read_text(encoding="utf-8").strip()
        if not stored:
            raise ValueError(f"{path} is empty: remove it to generate a new secret") from None
        return stored
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return value


def with_password(url: str, user: str, password: str) -> str:
    """``url`` with ``user:password@`` as its userinfo (both percent-encoded, RFC 3986)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (user and host kept)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))
