"""The basket service's Alembic migrations (``services/basket/migrations``,
``pkg.migrations``): ``upgrade_database(url)`` applies them (blocking)."""

from __future__ import annotations

from pathlib import Path

from pkg.migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).resolve().parent.parent / "migrations")
upgrade_database = MIGRATIONS.upgrade
