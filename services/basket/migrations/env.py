"""Alembic environment of the basket service: ``pkg.migrations`` with its tables and,
for Alembic's own CLI (``services/basket/alembic.ini``), ``AGORA_BASKET_DATABASE_URL``."""

from __future__ import annotations

from pkg.migrations import run_environment
from services.basket.adapters.orm import Base


def _settings_url() -> str:
    from services.basket.config import BasketSettings

    return BasketSettings().database_url


run_environment(Base.metadata, _settings_url)
