"""The Alembic migrations build the schema, and can be rolled back and reapplied."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from services.user.adapters.schema import alembic_config, upgrade_database
from services.user.tests.conftest import drop_database, fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture
def empty_database(postgres_url: str) -> Iterator[str]:
    name, url = fresh_database(postgres_url)
    yield url
    drop_database(postgres_url, name)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _tables(url: str) -> set[str]:
    with psycopg.connect(_libpq(url)) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in rows}


def test_upgrade_creates_the_tables_and_is_repeatable(empty_database: str) -> None:
    upgrade_database(empty_database)
    upgrade_database(empty_database)
    assert {"users", "idempotency_keys", "alembic_version"} <= _tables(empty_database)
    with psycopg.connect(_libpq(empty_database)) as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == ("0001",)


def test_downgrade_to_base_then_upgrade_again(empty_database: str) -> None:
    upgrade_database(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    assert _tables(empty_database) <= {"alembic_version"}
    upgrade_database(empty_database)
    assert "users" in _tables(empty_database)


def test_database_refuses_roles_outside_the_enum(empty_database: str) -> None:
    upgrade_database(empty_database)
    with psycopg.connect(_libpq(empty_database)) as conn, \
            pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO users (id, email, display_name, roles, password_hash, create_time,"
            " update_time) VALUES (gen_random_uuid(), 'a@b.c', 'A', ARRAY['root'], 'x',"
            " now(), now())")
