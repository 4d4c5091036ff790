"""Context managers that hand a test suite a PostgreSQL or Redis server URL.

A server named by ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` is used as is; otherwise an
embedded server starts under ``data_dir`` on a free port and stops on exit: its data in
``data_dir/data``, its log in ``data_dir/data.log``, its generated password in
``data_dir/data.password`` (mode 0600), and the URL carries that password.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pkg.runtime._ports import free_port
from pkg.runtime._postgres import EmbeddedPostgres
from pkg.runtime._redis import EmbeddedRedis


@contextmanager
def postgres_server(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Yield a PostgreSQL server URL (``postgresql://...``, database ``postgres``).

    ``$TEST_DATABASE_URL`` when set; else an ``EmbeddedPostgres`` under ``data_dir`` on
    ``port`` (a free one when None; superuser ``postgres`` with a generated password),
    stopped when the block exits. Use
    ``ensure_database(url, name)`` for a database of one's own.
    """
    with _named_or_embedded(
        "TEST_DATABASE_URL", lambda: EmbeddedPostgres(Path(data_dir) / "data", port or free_port())
    ) as url:
        yield url


@contextmanager
def redis_server(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Yield a Redis URL (``redis://default:<password>@127.0.0.1:<port>/0``).

    ``$TEST_REDIS_URL`` when set; else an ``EmbeddedRedis`` under ``data_dir`` on ``port``
    (a free one when None; a generated password), stopped when the block exits.
    """
    with _named_or_embedded(
        "TEST_REDIS_URL", lambda: EmbeddedRedis(Path(data_dir) / "data", port or free_port())
    ) as url:
        yield url


@contextmanager
def _named_or_embedded(
    variable: str, embedded: Callable[[], EmbeddedPostgres | EmbeddedRedis]
) -> Iterator[str]:
    named = os.environ.get(variable)
    if named:
        yield named
        return
    with embedded() as server:
        yield server.url
