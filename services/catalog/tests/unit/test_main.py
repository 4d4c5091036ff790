"""``python -m services.catalog`` logs where ``agora up`` says (``AGORA_LOG_FILE``), so
its lines reach the mesh's log file rather than the supervisor's pipe."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkg.testing import log_lines
from services.catalog import __main__ as entrypoint
from services.catalog.adapters import schema


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers, root.level
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers, root.level = handlers, level


@pytest.mark.usefixtures("restored_logging")
def test_migrate_logs_into_the_mesh_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[str] = []
    monkeypatch.setattr(schema, "upgrade_database", applied.append)
    monkeypatch.setenv("AGORA_LOG_FILE", str(tmp_path / "catalog.log"))
    monkeypatch.setenv("AGORA_CATALOG_DATABASE_URL", "postgresql://db.invalid/agora_catalog")
    assert entrypoint.main(["migrate"]) == 0
    assert applied == ["postgresql+psycopg://db.invalid/agora_catalog"]
    [line] = [line for line in log_lines(tmp_path / "catalog.log") if line["message"] == "migrated"]
    assert line["service"] == "catalog"
