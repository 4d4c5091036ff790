"""``agora events tail|dlq`` and ``agora status``'s event streams, end to end on a real Redis.

The commands run as ``python -m pkg.cli`` subprocesses (bounded by timeouts) with
``--redis-url`` naming the test Redis; ``agora status`` runs in-process with the
supervisor's answer replaced, since it needs no mesh to print the event streams.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pkg
from agora.user.v1 import user_pb2
from pkg.cli import main as cli
from pkg.events import ENVELOPE_FIELD, Consumer, Event, MessageBus, Rejected, stream_name
from pkg.runtime import ProgramStatus
from pkg.tests._events_kit import redis, source
from pkg.tests.test_events_operator import publish, user

pytestmark = pytest.mark.integration
__all__ = ["redis", "source"]
ROOT = Path(pkg.__file__).resolve().parents[1]
BOUND = 60.0


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), str(ROOT / "gen"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}


def agora(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pkg.cli", *argv],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=BOUND,
        check=False,
    )


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


async def test_tail_prints_the_last_events_as_json_lines(
    redis: Any, redis_url: str, source: str
) -> None:
    first = await publish(redis, source, user(1), "users/1")
    await publish(redis, source, user(2), "users/2")
    await redis.xadd(stream_name(source), {ENVELOPE_FIELD: b"\x00garbage"})
    await publish(redis, source, user(3), "users/3")

    done = agora("events", "tail", "--redis-url", redis_url, "--source", source, "-n", "3")
    assert done.returncode == 0, done.stderr
    records = _lines(done.stdout)
    assert [r.get("subject") for r in records] == ["users/2", None, "users/3"]
    assert records[1]["decode_error"].startswith("malformed envelope")
    assert records[2]["payload"]["email"] == "u3@example.com"

    since = agora(
        "events",
        "tail",
        "--redis-url",
        redis_url,
        "--source",
        source,
        "--since",
        first,
        "--type",
        "agora.user.v1.User",
    )
    assert since.returncode == 0, since.stderr
    assert [r["subject"] for r in _lines(since.stdout)] == ["users/2", "users/3"]


async def test_tail_follow_prints_new_events_until_ctrl_c(
    redis: Any, redis_url: str, source: str
) -> None:
    await publish(redis, source, user(1), "users/1")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pkg.cli",
        "events",
        "tail",
        "-f",
        "-n",
        "1",
        "--redis-url",
        redis_url,
        "--source",
        source,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        async with asyncio.timeout(BOUND):
            history = json.loads(await process.stdout.readline())
            await publish(redis, source, user(2), "users/2")
            new = json.loads(await process.stdout.readline())
            process.send_signal(signal.SIGINT)
            stderr = (await process.stderr.read()).decode()
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert (history["subject"], new["subject"]) == ("users/1", "users/2")
    assert code == 0
    assert "Traceback" not in stderr


async def test_dlq_lists_a_dead_letter_and_replay_lets_the_consumer_apply_it(
    redis: Any, redis_url: str, source: str
) -> None:
    applied: list[str] = []
    fixed = False

    async def handle(payload: user_pb2.User, event: Event) -> None:
        if not fixed:
            raise Rejected("no such user yet")
        applied.append(event.subject)

    consumer = Consumer(
        redis, MessageBus({user_pb2.User: handle}), source=source, group="ops", backoff=0
    )
    await consumer.ensure_group()
    original = await publish(redis, source, user(5), "users/5")
    await consumer.consume_once()

    listed = agora("events", "dlq", "--redis-url", redis_url, "--source", source)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split()[:3] == ["DEAD", "LETTER", "SOURCE"]
    letter_id = row.split()[0]
    for text in (
        source,
        "ops",
        original,
        "agora.user.v1.User",
        "users/5",
        "rejected: no such user yet",
    ):
        assert text in row

    fixed = True
    replayed = agora("events", "dlq", "replay", letter_id, "--redis-url", redis_url)
    assert replayed.returncode == 0, replayed.stderr
    assert f"replayed {letter_id} of group ops" in replayed.stdout
    assert "1 dead letter(s) replayed" in replayed.stdout
    await consumer.consume_once()
    assert applied == ["users/5"]
    empty = agora("events", "dlq", "list", "--redis-url", redis_url, "--source", source)
    assert empty.stdout.strip() == "no dead letters"

    again = agora(
        "events", "dlq", "replay", letter_id, "--redis-url", redis_url, "--source", source
    )
    assert again.returncode == 1 and f"no dead letter {letter_id}" in again.stderr
    assert "Traceback" not in again.stderr


def test_events_without_a_mesh_or_with_redis_down_say_so(tmp_path: Path) -> None:
    missing = agora("events", "tail", "--data-dir", str(tmp_path))
    assert missing.returncode == 3
    assert f"no mesh is running from {tmp_path}" in missing.stderr
    down = agora("events", "dlq", "--redis-url", "redis://127.0.0.1:1/0")
    assert down.returncode == 1 and "is unreachable" in down.stderr
    assert "Traceback" not in down.stderr
    bad = agora("events", "dlq", "replay", "--all", "1-1", "--redis-url", "redis://x")
    assert bad.returncode == 2 and "not both" in bad.stderr


def _fake_mesh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mesh.json").write_text(json.dumps({"edge": False}))
    statuses = [ProgramStatus("redis", "RUNNING", 42, 5.0, True, 6379)]
    monkeypatch.setattr(cli, "mesh_status", lambda data_dir: statuses)


def test_status_shows_pending_and_lag_of_each_group(
    tmp_path: Path,
    redis_url: str,
    source: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import redis as sync_redis

    client = sync_redis.Redis.from_url(redis_url)
    try:
        stream = stream_name(source)
        for n in range(3):
            client.xadd(stream, {ENVELOPE_FIELD: b"x", b"n": str(n).encode()})
        client.xgroup_create(stream, "behind", id="0")
        client.xreadgroup("behind", "c1", {stream: ">"}, count=1)
        has_lag = int(str(client.info("server")["redis_version"]).split(".")[0]) >= 7
    finally:
        client.close()
    _fake_mesh(tmp_path, monkeypatch)

    assert cli.main(["status", "--data-dir", str(tmp_path), "--redis-url", redis_url]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["PROCESS", "STATE"]
    assert "EVENT STREAM" in lines[lines.index("") + 1]
    row = next(line for line in lines if line.startswith(stream)).split()
    assert row == [stream, "3", "behind", "1", "2" if has_lag else "-", "1", "0"]


def test_status_with_redis_unreachable_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_mesh(tmp_path, monkeypatch)
    assert (
        cli.main(
            [
                "status",
                "--data-dir",
                str(tmp_path),
                "--redis-url",
                "redis://default:secret@127.0.0.1:1/0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("event streams")]
    assert "redis://default:***@127.0.0.1:1/0 is unreachable" in line
    assert "secret" not in out
