"""Keeping a mesh's data directory to the user who runs it.

The data directory holds the generated passwords, the CA's key, the certificates' keys,
PGDATA, Redis's data, the logs and ``supervisord.conf`` (whose environments carry the
database and Redis URLs with their passwords). ``agora up`` therefore makes it mode 0700,
and its folders for logs, secrets, Envoy and Redis too; files it writes are 0600.

As root, the embedded PostgreSQL runs as another identity (``_accounts``). Inside a user
namespace the kernel still checks files as root, so 0700 suffices. With the ``setpriv``
fallback the server is the system account ``agora``: the data directory is then
``root:agora`` with mode 0710, so that account can pass through it to PGDATA (its own,
0700) while it can list nothing, and other users cannot even pass.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pkg.runtime._accounts import Account
from pkg.runtime._mesh import MeshError, MeshLayout
from pkg.runtime._secrets import make_private_dir, make_private_file

_MARKERS = frozenset(
    {
        "mesh.json",
        "supervisord.conf",
        "postgres",
        "redis",
        "certs",
        "pki",
        "logs",
        "secrets",
        "envoy",
    }
)
"""Names of which at least one is in a data directory that ``agora up`` has used."""

SHARED_DATA_DIR = 0o710
"""The data directory's mode when the ``agora`` system account runs PostgreSQL."""


def _check_data_dir(data_dir: Path) -> None:
    try:
        info = data_dir.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        raise MeshError(f"{data_dir} is not a directory")
    if info.st_uid != os.getuid():
        raise MeshError(
            f"the data directory {data_dir} belongs to uid {info.st_uid}, not to "
            f"this user (uid {os.getuid()}): its owner could read the mesh's "
            "secrets; give a directory of your own"
        )
    names = {entry.name for entry in data_dir.iterdir()}
    if names and not names & _MARKERS:
        raise MeshError(
            f"{data_dir} is not empty and holds no Agora mesh; agora up makes its "
            "data directory private (mode 0700), so give a new or empty one"
        )


def secure_data_dir(layout: MeshLayout, account: Account | None) -> None:
    """Create or narrow ``layout``'s data directory and folders so only this user (and,
    with the ``setpriv`` fallback, PostgreSQL's ``account``) can enter them.

    ``data_dir``: 0700 (0710, group ``account``, when ``account`` is a system account
    rather than a namespace identity); ``logs``, ``secrets``, ``redis``, the Envoy
    folder and the admin socket's folder: 0700; files already in ``logs`` (left by an
    older Agora, which wrote them 0644): 0600. Raises ``MeshError`` when the directory
    belongs to another user, is not a directory, or is a non-empty folder without any
    sign of an Agora mesh (so ``--data-dir ~`` is refused instead of locked).
    """
    data_dir = layout.data_dir
    _check_data_dir(data_dir)
    try:
        make_private_dir(data_dir)
        if account is not None and not account.namespace:
            os.chown(data_dir, -1, account.gid)
            data_dir.chmod(SHARED_DATA_DIR)
        for folder in (
            layout.logs,
            layout.secrets,
            layout.redis,
            layout.envoy_config.parent,
            layout.admin_socket.parent,
        ):
            make_private_dir(folder)
        for entry in layout.logs.iterdir():
            make_private_file(entry)
        for path in (layout.mesh_file, layout.supervisord_conf):
            make_private_file(path)
    except PermissionError as exc:
        raise MeshError(f"cannot make the data directory private: {exc}") from exc
