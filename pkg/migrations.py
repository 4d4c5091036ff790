"""Alembic for every service: one migration environment, parameterised by the service.

A service's ``migrations/env.py`` is two lines, ``run_environment(Base.metadata,
default_url)``: an async engine (psycopg 3) without a pool, and all pending revisions in
one transaction (PostgreSQL has transactional DDL, so a failed upgrade leaves nothing
behind).  The URL comes from ``config.attributes["database_url"]`` (set by
``Migrations.config``, so a password with ``%`` in it needs no ini escaping) or, when
Alembic's own CLI runs ``env.py`` from the service's ``alembic.ini``, from
``default_url()`` (the service's settings).  Offline mode (``--sql``) renders the SQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


@dataclass(frozen=True)
class Migrations:
    """The Alembic migrations in ``directory`` (a service's ``migrations/``)."""

    directory: Path

    def config(self, database_url: str) -> Config:
        """An Alembic ``Config`` for ``directory`` and ``database_url``."""
        config = Config()
        config.set_main_option("script_location", str(self.directory))
        config.attributes["database_url"] = database_url
        return config

    def upgrade(self, database_url: str, revision: str = "head") -> None:
        """Run ``alembic upgrade <revision>`` against ``database_url`` (blocking).

        The environment runs its own event loop, so call this from synchronous code or a
        worker thread (``asyncio.to_thread``).  Raises SQLAlchemy's ``OperationalError``
        when the database is unreachable.
        """
        command.upgrade(self.config(database_url), revision)


def run_environment(metadata: MetaData, default_url: Callable[[], str]) -> None:
    """Run the migrations Alembic asked for, from a service's ``env.py``.

    ``metadata`` is the service's ``Base.metadata`` (what autogenerate compares with);
    ``default_url`` gives the database URL when the ``Config`` carries none.
    """
    url = str(context.config.attributes.get("database_url") or default_url())
    if context.is_offline_mode():
        context.configure(
            url=url,
            target_metadata=metadata,
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, metadata))


def _migrate(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection, target_metadata=metadata, transaction_per_migration=False
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate, metadata)
    finally:
        await engine.dispose()


def create_event_tables() -> None:
    """In a revision's ``upgrade()``: create the ``outbox`` and ``inbox`` tables of
    ``pkg.events`` (with their indexes) under ``pkg.orm``'s names, as a service's
    ``include_event_tables(Base.metadata)`` declares them, so autogenerate finds no
    difference.  A later change to those tables comes with a helper of its own here."""
    from alembic import op

    from pkg.events import include_event_tables
    from pkg.orm import service_metadata

    for table in include_event_tables(service_metadata()):
        table.create(op.get_bind())


def drop_event_tables() -> None:
    """In a revision's ``downgrade()``: drop what ``create_event_tables`` created."""
    from alembic import op

    op.drop_table("inbox")
    op.drop_table("outbox")
