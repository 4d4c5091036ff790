"""Fixtures shared by the catalog service's integration and contract tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from pkg.runtime import ensure_database
from services.catalog.adapters.schema import upgrade_database


@pytest.fixture(scope="session")
def migrated_database(postgres_url: str) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database with every migration applied (one per session)."""
    name = f"agora_catalog_test_{secrets.token_hex(4)}"
    url = ensure_database(postgres_url, name)
    upgrade_database(url)
    yield url
    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
