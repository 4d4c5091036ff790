"""The user service's Alembic migrations (``services/user/migrations``, ``pkg.migrations``).

``upgrade_database(url)`` applies them (blocking; see ``Migrations.upgrade``) and
``alembic_config(url)`` is the ``Config`` for other Alembic commands.
"""

from __future__ import annotations

from pathlib import Path

from pkg.migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).resolve().parent.parent / "migrations")
alembic_config = MIGRATIONS.config
upgrade_database = MIGRATIONS.upgrade
