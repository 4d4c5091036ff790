"""``pkg.obs``'s log file: one JSON line per record, rotation noticed without a stat per line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

import pytest

from pkg.obs import _logging as obs_logging
from pkg.obs import get_logger
from pkg.testing import log_lines


def test_records_are_json_lines_in_the_file(log_file: Path) -> None:
    get_logger("agora.rpc").info("rpc finished", extra={"code": "OK"})
    [line] = log_lines(log_file)
    assert line["message"] == "rpc finished" and line["code"] == "OK"
    assert line["service"] == "user" and line["logger"] == "agora.rpc"


def test_the_file_is_not_stat_ed_for_every_record(
    log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    assert len(log_lines(log_file)) == 50


def test_a_rotated_file_is_reopened_at_the_next_check(
    log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [handler] = [
        h for h in logging.getLogger().handlers if isinstance(h, obs_logging.JsonLineFileHandler)
    ]
    get_logger("t").info("before")
    log_file.rename(log_file.with_suffix(".log.1"))
    monkeypatch.setattr(handler, "_next_check", 0.0)
    get_logger("t").info("after")
    assert [line["message"] for line in log_lines(log_file)] == ["after"]
    assert [line["message"] for line in log_lines(log_file.with_suffix(".log.1"))] == ["before"]


def _unflushed_text(path: Path) -> str:
    # What the file holds now, without flushing the handlers first (as log_lines does).
    return path.read_text(encoding="utf-8")


async def test_lines_of_one_loop_iteration_are_written_together(log_file: Path) -> None:
    [handler] = [
        h for h in logging.getLogger().handlers if isinstance(h, obs_logging.JsonLineFileHandler)
    ]
    writes: list[str] = []
    real_write = handler.stream.write

    def counting(text: str) -> int:
        writes.append(text)
        return real_write(text)

    handler.stream.write = counting
    for n in range(5):
        get_logger("agora.rpc").info("rpc %d", n)
    assert _unflushed_text(log_file) == "" and writes == []
    await asyncio.sleep(0)
    assert len(writes) == 1
    assert [line["message"] for line in log_lines(log_file)] == [f"rpc {n}" for n in range(5)]


async def test_a_warning_is_written_at_once_with_the_lines_before_it(log_file: Path) -> None:
    get_logger("agora.rpc").info("first")
    get_logger("agora.rpc").warning("dependency unavailable")
    lines = [json.loads(text) for text in _unflushed_text(log_file).splitlines()]
    assert [line["message"] for line in lines] == ["first", "dependency unavailable"]
