"""Context managers that hand a test suite a PostgreSQL or Redis server URL.

A server named by ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` is used as is; otherwise an
embedded server starts in ``data_dir`` on a free port and stops on exit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pkg.runtime._ports import free_port
from pkg.runtime._postgres import EmbeddedPostgres
from pkg.runtime._redis import EmbeddedRedis


@contextmanager
def postgres_server(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Yield a PostgreSQL server URL (``postgresql://...``, database ``postgres``).

    ``$TEST_DATABASE_URL`` when set; else an ``EmbeddedPostgres`` in ``data_dir`` on
    ``port`` (a free one when None), stopped when the block exits. Use
    ``ensure_database(url, name)`` for a database of one's own.
    """
    named = os.environ.get("TEST_DATABASE_URL")
    if named:
        yield named
        return
    server = EmbeddedPostgres(Path(data_dir), port or free_port())
    with server:
        yield server.url


@contextmanager
def redis_server(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Yield a Redis URL (``redis://127.0.0.1:<port>/0``).

    ``$TEST_REDIS_URL`` when set; else an ``EmbeddedRedis`` in ``data_dir`` on ``port``
    (a free one when None), stopped when the block exits.
    """
    named = os.environ.get("TEST_REDIS_URL")
    if named:
        yield named
        return
    server = EmbeddedRedis(Path(data_dir), port or free_port())
    with server:
        yield server.url
