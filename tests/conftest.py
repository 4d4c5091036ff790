"""pytest configuration of the cross-service suites under ``tests/`` (end-to-end only).

Everything under ``tests/e2e`` is marked ``e2e`` (``make test-e2e`` selects it), and
``--mesh-data-dir DIR`` runs the e2e tests against a mesh that is already running from
``DIR`` (``agora up --data-dir DIR``) instead of starting and stopping one;
``--keep-mesh-data`` keeps the data directory (logs, ``mesh.json``) of the mesh the suite
started after ``agora down`` (one that fails to start is always kept).
"""

from __future__ import annotations

from pathlib import Path

import pytest

_E2E = Path(__file__).parent / "e2e"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--mesh-data-dir",
        default=None,
        help="e2e: use the mesh already running from this data directory (no up/down)",
    )
    parser.addoption(
        "--keep-mesh-data",
        action="store_true",
        default=False,
        help="e2e: keep the started mesh's data directory (logs, mesh.json) after the run",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _E2E in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
