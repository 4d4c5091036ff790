"""The Alembic migrations build the schema, and can be rolled back and reapplied."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from services.user.adapters.orm import Base
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
    assert {"users", "idempotency_keys", "outbox", "inbox", "alembic_version"} <= _tables(
        empty_database
    )
    with psycopg.connect(_libpq(empty_database)) as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == ("0003",)


def test_downgrade_to_base_then_upgrade_again(empty_database: str) -> None:
    upgrade_database(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    assert _tables(empty_database) <= {"alembic_version"}
    upgrade_database(empty_database)
    assert "users" in _tables(empty_database)


def test_database_refuses_roles_outside_the_enum(empty_database: str) -> None:
    upgrade_database(empty_database)
    with (
        psycopg.connect(_libpq(empty_database)) as conn,
        pytest.raises(psycopg.errors.CheckViolation),
    ):
        conn.execute(
            "INSERT INTO users (id, email, display_name, roles, password_hash, create_time,"
            " update_time) VALUES (gen_random_uuid(), 'a@b.c', 'A', ARRAY['root'], 'x',"
            " now(), now())"
        )


def test_upgrade_keeps_existing_keys_scoped_to_auth_and_never_replayed(empty_database: str) -> None:
    upgrade_database(empty_database, "0001")
    with psycopg.connect(_libpq(empty_database)) as conn:
        user_id = conn.execute(
            "INSERT INTO users (id, email, display_name, roles, password_hash, create_time,"
            " update_time) VALUES (gen_random_uuid(), 'a@b.c', 'A', ARRAY['customer'], 'x',"
            " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z') RETURNING id"
        ).fetchone()
        assert user_id is not None
        conn.execute(
            "INSERT INTO idempotency_keys (request_id, user_id, create_time)"
            " VALUES ('00000000-0000-4000-8000-000000000001', %s,"
            " '2026-01-01T00:00:00Z')",
            user_id,
        )
    upgrade_database(empty_database)
    with psycopg.connect(_libpq(empty_database)) as conn:
        row = conn.execute(
            "SELECT scope, request_id::text, fingerprint, user_id,"
            " expire_time - create_time FROM idempotency_keys"
        ).fetchone()
        assert row == (
            "auth",
            "00000000-0000-4000-8000-000000000001",
            "",
            user_id[0],
            timedelta(hours=24),
        )
        conn.execute(
            "INSERT INTO idempotency_keys (scope, request_id, fingerprint, user_id,"
            " create_time, expire_time) VALUES ('cli',"
            " '00000000-0000-4000-8000-000000000001', '', %s, now(), now())",
            user_id,
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO idempotency_keys (scope, request_id, fingerprint,"
                " user_id, create_time, expire_time) VALUES ('auth',"
                " '00000000-0000-4000-8000-000000000001', '', %s, now(), now())",
                user_id,
            )
    command.downgrade(alembic_config(empty_database), "0001")
    with psycopg.connect(_libpq(empty_database)) as conn:
        count = conn.execute("SELECT count(*) FROM idempotency_keys").fetchone()
    assert count == (1,)


def test_the_migrated_schema_matches_the_orm(empty_database: str) -> None:
    upgrade_database(empty_database)
    engine = sa.create_engine(empty_database)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
