"""Alembic environment of the catalog service: ``pkg.migrations`` with its tables and,
for Alembic's own CLI (``services/catalog/alembic.ini``), ``AGORA_CATALOG_DATABASE_URL``."""

from __future__ import annotations

from pkg.migrations import run_environment
from services.catalog.adapters.orm import Base


def _settings_url() -> str:
    from services.catalog.config import CatalogSettings

    return CatalogSettings().database_url


run_environment(Base.metadata, _settings_url)
