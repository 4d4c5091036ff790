"""Alembic environment of the user service: ``pkg.migrations`` with its tables and, for
Alembic's own CLI (``services/user/alembic.ini``), ``AGORA_USER_DATABASE_URL``."""

from __future__ import annotations

from pkg.migrations import run_environment
from services.user.adapters.orm import Base


def _settings_url() -> str:
    from services.user.config import UserSettings

    return UserSettings().database_url


run_environment(Base.metadata, _settings_url)
