"""pytest fixtures of the async test kit (loaded by the root ``conftest.py``).

Session fixtures: ``cert_dir`` (a development CA's certificates for auth, user, edge,
cli), ``token_mint`` (``TokenMint``), ``postgres_url`` and ``redis_url`` (servers named by
``TEST_DATABASE_URL`` / ``TEST_REDIS_URL``, else embedded ones started for the session).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pkg.pki import DevelopmentCA, ensure_mesh_certificates
from pkg.runtime import WORKLOADS
from pkg.testing._kit import TokenMint


@contextmanager
def _private_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory outside pytest's temp tree.

    Each new pytest session makes ``/tmp/pytest-of-<user>`` mode 0700 again; as root,
    the embedded PostgreSQL runs as an unprivileged account and would lose access to a
    data directory in there whenever another session starts.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate directory (step-ca layout) with leaves for every workload."""
    root = tmp_path_factory.mktemp("mesh-pki")
    certs = root / "certs"
    ensure_mesh_certificates(DevelopmentCA(root / "pki"), certs, WORKLOADS)
    return certs


@pytest.fixture(scope="session")
def token_mint() -> TokenMint:
    """Signs access tokens that ``token_mint.verifier`` accepts."""
    return TokenMint()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL server for the session (``postgresql://.../postgres``; the
    embedded one's carries its generated password)."""
    from pkg.runtime import postgres_server

    with _private_dir("agora-test-postgres-") as data_dir, postgres_server(data_dir) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis server for the session (``redis://default:<password>@127.0.0.1:<port>/0``
    for the embedded one)."""
    from pkg.runtime import redis_server

    with _private_dir("agora-test-redis-") as data_dir, redis_server(data_dir) as url:
        yield url


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The process's log configured as ``agora up`` does it (``AGORA_LOG_FILE``): service
    ``user``, level INFO, JSON lines into this file; the logging setup is restored after."""
    import logging

    from pkg.obs import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers, root.level
    path = tmp_path / "user.log"
    configure_logging("user", "INFO", str(path))
    yield path
    for handler in root.handlers:
        handler.close()
    root.handlers, root.level = handlers, level
