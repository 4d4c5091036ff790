"""``python -m services.basket`` has one command, ``serve``: the basket keeps no database,
so there is nothing to migrate."""

from __future__ import annotations

import pytest

from services.basket import __main__ as entrypoint


def test_migrate_is_not_a_command() -> None:
    with pytest.raises(SystemExit) as exited:
        entrypoint.main(["migrate"])
    assert exited.value.code == 2
