"""Fixtures and test data shared by the user service's unit, integration and contract tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from pkg.runtime import ensure_database
from services.user.adapters.schema import upgrade_database

PASSWORD = "correct horse battery"
"""A password every use case and the contract accept (12 to 128 characters)."""


def random_email() -> str:
    """A fresh address, e.g. ``user-1a2b3c4d@example.com``."""
    return f"user-{secrets.token_hex(4)}@example.com"


def fresh_database(postgres_url: str) -> tuple[str, str]:
    """Create an empty database ``agora_user_test_<random>``; return (name, SQLAlchemy URL)."""
    name = f"agora_user_test_{secrets.token_hex(4)}"
    return name, ensure_database(postgres_url, name)


def drop_database(postgres_url: str, name: str) -> None:
    """Drop database ``name``, disconnecting whoever still uses it (PostgreSQL 13+)."""
    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def migrated_database(postgres_url: str) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database with every migration applied (one per session)."""
    name, url = fresh_database(postgres_url)
    upgrade_database(url)
    yield url
    drop_database(postgres_url, name)
