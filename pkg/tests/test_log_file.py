"""``pkg.obs``'s log file: one JSON line per record, rotation noticed without a stat per line."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkg.obs import _logging as obs_logging
from pkg.obs import configure_logging, get_logger


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    handlers, level = root.handlers, root.level
    path = tmp_path / "user.log"
    configure_logging("user", "INFO", str(path))
    yield path
    for handler in root.handlers:
        handler.close()
    root.handlers, root.level = handlers, level


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_records_are_json_lines_in_the_file(log_file: Path) -> None:
    get_logger("agora.rpc").info("rpc finished", extra={"code": "OK"})
    [line] = _lines(log_file)
    assert line["message"] == "rpc finished" and line["code"] == "OK"
    assert line["service"] == "user" and line["logger"] == "agora.rpc"


def test_the_file_is_not_stat_ed_for_every_record(
        log_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = os.stat

    def counting(path: object, *args: object, **kwargs: object) -> object:
        if str(path) == str(log_file):
            calls.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", counting)
    for n in range(50):
        get_logger("agora.rpc").info("line %d", n)
    assert len(calls) <= 1
    assert len(_lines(log_file)) == 50


def test_a_rotated_file_is_reopened_at_the_next_check(
        log_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [handler] = [h for h in logging.getLogger().handlers
                 if isinstance(h, obs_logging.JsonLineFileHandler)]
    get_logger("t").info("before")
    log_file.rename(log_file.with_suffix(".log.1"))
    monkeypatch.setattr(handler, "_next_check", 0.0)
    get_logger("t").info("after")
    assert [line["message"] for line in _lines(log_file)] == ["after"]
    assert [line["message"] for line in _lines(log_file.with_suffix(".log.1"))] == ["before"]
