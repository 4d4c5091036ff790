"""What every service's SQLAlchemy 2 declarative tables share: PostgreSQL's own names.

Each service declares its own base, so its tables live in its own ``MetaData`` (the one its
Alembic environment compares against, ``pkg.migrations``)::

    class Base(DeclarativeBase):
        metadata = service_metadata()

Constraints and indexes then get the names PostgreSQL itself would give them
(``users_pkey``, ``users_email_key``, ``idempotency_keys_user_id_fkey``,
``users_create_time_id_idx``), so migrations written by hand and autogenerate agree.
"""

from __future__ import annotations

from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}
"""SQLAlchemy naming convention with PostgreSQL's default constraint and index names."""


def service_metadata() -> MetaData:
    """A fresh ``MetaData`` with ``NAMING_CONVENTION``, for one service's declarative base."""
    return MetaData(naming_convention=NAMING_CONVENTION)
