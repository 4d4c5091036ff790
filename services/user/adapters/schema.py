"""Applying the user service's Alembic migrations to its database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic ``Config`` for ``services/user/migrations`` and ``database_url``.

    The URL travels in ``Config.attributes`` rather than the ini options, so a password
    with ``%`` in it needs no escaping.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Run ``alembic upgrade <revision>`` against ``database_url`` (blocking).

    The migration environment runs its own event loop, so call this from synchronous
    code or a worker thread (``asyncio.to_thread``).  Raises SQLAlchemy's
    ``OperationalError`` when the database is unreachable.
    """
    command.upgrade(alembic_config(database_url), revision)
