"""``agora events tail|dlq`` and the event-stream table of ``agora status``.

The commands find the running mesh's Redis from ``--data-dir`` (``mesh_redis_url``) or
take ``--redis-url``; everything they show comes from ``pkg.events`` (no key format
here), and this module only parses options and prints.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from google.protobuf import descriptor_pool
from redis.exceptions import RedisError

from pkg import errors
from pkg.contracts import import_contracts
from pkg.events import (
    AmbiguousDeadLetter,
    DeadLetter,
    DeadLetterNotFound,
    StreamStats,
    events_after,
    follow_events,
    last_ids,
    list_dead_letters,
    recent_events,
    replay_dead_letters,
    select_streams,
    stream_stats,
)
from pkg.redis import GuardedRedis, create_redis
from pkg.runtime import MeshError, MeshLayout, Supervisor, mesh_redis_url
from pkg.runtime._secrets import redact_url

NOT_RUNNING = 3
"""Exit status when no mesh runs from the data directory (as ``agora status``)."""
_SINCE = re.compile(r"\$|[0-9]+(-[0-9]+)?")
_ENTRY_ID = re.compile(r"[0-9]+-[0-9]+")
_BLOCK_SECONDS = 2.0
_T = TypeVar("_T")


class NoMesh(Exception):
    """No mesh runs from the data directory and no ``--redis-url`` was given."""


def _since(value: str) -> str:
    if not _SINCE.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a stream entry id (<milliseconds>[-<sequence>]) or $"
        )
    return value


def _entry_id(value: str) -> str:
    if not _ENTRY_ID.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a stream entry id (<milliseconds>-<sequence>)"
        )
    return value


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of events")
    return count


def add_redis_url(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--redis-url`` (overrides the mesh's Redis) to ``sub``; return it."""
    sub.add_argument(
        "--redis-url",
        default=None,
        metavar="URL",
        help="read this Redis instead of the running mesh's (redis://[user:password@]host:port/db)",
    )
    return sub


def add_events_parser(
    commands: Any, with_data_dir: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
) -> None:
    """Add ``events`` (``tail``, ``dlq [list]``, ``dlq replay``) to ``commands``, the
    subparsers of ``agora``."""
    events = commands.add_parser("events", help="read the event streams and dead letters")
    verbs = events.add_subparsers(dest="events_command", required=True, metavar="VERB")

    def common(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        return add_redis_url(with_data_dir(sub))

    tail = common(
        verbs.add_parser("tail", help="print events as JSON lines: the last N, or after --since")
    )
    tail.add_argument("--type", help="only events of this type (agora.user.v1.UserCreated)")
    tail.add_argument("--source", help="only the stream of this producing service")
    tail.add_argument(
        "--since",
        type=_since,
        metavar="ID",
        help="every event after stream entry ID ($: none of the past ones)",
    )
    tail.add_argument(
        "-f", "--follow", action="store_true", help="then wait for new events until Ctrl-C"
    )
    tail.add_argument(
        "-n",
        "--count",
        type=_count,
        default=20,
        help="how many of the last events without --since (default %(default)s)",
    )

    dlq = common(verbs.add_parser("dlq", help="list (default) or replay dead letters"))
    dlq.add_argument("--source", help="only dead letters of this producing service")
    dlq.add_argument("--group", help="only dead letters of this consumer group")
    actions = dlq.add_subparsers(dest="dlq_command", required=False, metavar="ACTION")
    for name, text in (
        ("list", "list the dead letters (the default)"),
        ("replay", "put dead letters back on their producer's stream"),
    ):
        sub = common(actions.add_parser(name, help=text))
        sub.add_argument(
            "--source",
            default=argparse.SUPPRESS,
            help="only dead letters of this producing service",
        )
        sub.add_argument(
            "--group", default=argparse.SUPPRESS, help="only dead letters of this consumer group"
        )
        if name == "replay":
            sub.add_argument(
                "entry_ids",
                nargs="*",
                type=_entry_id,
                metavar="ENTRY_ID",
                help="dead letters to replay (ids from `agora events dlq`)",
            )
            sub.add_argument(
                "--all", action="store_true", help="replay every dead letter (of --source/--group)"
            )


def resolve_redis_url(layout: MeshLayout, override: str | None) -> str:
    """``override``, else the Redis URL of the mesh running from ``layout``; ``NoMesh``
    when none runs there, ``MeshError`` when its Redis URL cannot be found."""
    if override:
        return override
    if not layout.mesh_file.exists() or not Supervisor(layout).reachable():
        raise NoMesh(
            f"no mesh is running from {layout.data_dir} "
            "(start one with `agora up`, or pass --redis-url)"
        )
    try:
        return mesh_redis_url(layout.data_dir)
    except FileNotFoundError as error:
        raise NoMesh(f"no mesh is running from {layout.data_dir}") from error


def _client(url: str) -> GuardedRedis:
    return create_redis(url, socket_timeout=_BLOCK_SECONDS + 5, connect_timeout=2.0)


async def _with_redis(url: str, work: Callable[[GuardedRedis], Coroutine[Any, Any, _T]]) -> _T:
    redis = _client(url)
    try:
        return await work(redis)
    finally:
        await redis.aclose()


def _unreachable(url: str, error: BaseException) -> str:
    cause = error.__cause__ or error
    what = "is unreachable" if isinstance(error, errors.Unavailable | OSError) else "refused"
    return f"Redis at {redact_url(url)} {what} ({cause.__class__.__name__}: {cause})"


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


async def _tail(redis: GuardedRedis, args: argparse.Namespace) -> None:
    streams = await select_streams(redis, args.source)
    if args.since is None or args.since == "$":
        cursors = await last_ids(redis, streams)
        if args.since is None:
            for record in await recent_events(
                redis, streams, count=args.count, type_name=args.type, until=cursors
            ):
                _emit(record)
    else:
        cursors = dict.fromkeys(streams, args.since)
        async for record in events_after(redis, cursors, type_name=args.type):
            _emit(record)
    if args.follow:
        await _until_interrupted(_follow(redis, cursors, args))


async def _follow(redis: GuardedRedis, cursors: dict[str, str], args: argparse.Namespace) -> None:
    async for record in follow_events(
        redis, cursors, type_name=args.type, rescan=args.source is None, block=_BLOCK_SECONDS
    ):
        _emit(record)


async def _until_interrupted(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` until it ends or SIGINT/SIGTERM arrives (then cancel it and wait for
    it at most one block longer).  The loop's own signal handlers wake it reliably."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    job = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({job, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        waiter.cancel()
        if not job.done():
            job.cancel()
            await asyncio.wait({job}, timeout=_BLOCK_SECONDS + 1)
    if job.done() and not job.cancelled():
        job.result()


def _table(rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            (cell.rjust if i in right else cell.ljust)(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def _letters_table(letters: list[DeadLetter]) -> list[str]:
    rows = [
        (
            "DEAD LETTER",
            "SOURCE",
            "GROUP",
            "ORIGINAL ENTRY",
            "TYPE",
            "SUBJECT",
            "EVENT ID",
            "REASON",
        )
    ]
    rows += [
        (
            letter.entry_id,
            letter.source,
            letter.group,
            letter.message_id or "-",
            letter.type or "-",
            letter.subject or "-",
            letter.event_id or "-",
            letter.reason or "-",
        )
        for letter in letters
    ]
    return _table(rows)


async def _dlq(redis: GuardedRedis, args: argparse.Namespace) -> int:
    source, group = args.source, args.group
    if args.dlq_command != "replay":
        letters = await list_dead_letters(redis, source=source, group=group)
        if not letters:
            print("no dead letters")
        for line in _letters_table(letters) if letters else []:
            print(line)
        return 0
    replayed = await replay_dead_letters(
        redis, None if args.all else args.entry_ids, source=source, group=group
    )
    for done in replayed:
        letter = done.letter
        print(
            f"replayed {letter.entry_id} of group {letter.group} "
            f"({letter.type or '?'} {letter.event_id or '?'}, {letter.subject or '-'}) "
            f"to {letter.stream.partition(':dead:')[0]} as {done.new_entry_id}"
        )
    print(f"{len(replayed)} dead letter(s) replayed")
    return 0


def _note_unknown_type(type_name: str | None) -> None:
    if type_name is None:
        return
    import_contracts()
    try:
        descriptor_pool.Default().FindMessageTypeByName(type_name)
    except KeyError:
        print(f"note: no contract declares {type_name}", file=sys.stderr)


def run_events(args: argparse.Namespace, layout: MeshLayout) -> int:
    """Run ``agora events ...``: 0 done (also after Ctrl-C in ``tail -f``), 1 Redis
    unreachable or a dead letter not found, 2 bad options, 3 no mesh running."""
    command = f"agora events {args.events_command}"
    if args.events_command == "dlq" and args.dlq_command:
        command += f" {args.dlq_command}"
    if (
        args.events_command == "dlq"
        and args.dlq_command == "replay"
        and bool(args.entry_ids) == bool(args.all)
    ):
        print(f"{command}: give dead-letter ENTRY_IDs or --all (not both)", file=sys.stderr)
        return 2
    try:
        url = resolve_redis_url(layout, args.redis_url)
    except NoMesh as error:
        print(f"{command}: {error}", file=sys.stderr)
        return NOT_RUNNING
    if args.events_command == "tail":
        _note_unknown_type(args.type)

        async def work(redis: GuardedRedis) -> int:
            await _tail(redis, args)
            return 0
    else:

        async def work(redis: GuardedRedis) -> int:
            return await _dlq(redis, args)

    try:
        return asyncio.run(_with_redis(url, work))
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (errors.Unavailable, RedisError, OSError) as error:
        print(f"{command}: {_unreachable(url, error)}", file=sys.stderr)
        return 1
    except (DeadLetterNotFound, AmbiguousDeadLetter, ValueError, RuntimeError) as error:
        print(f"{command}: {error}", file=sys.stderr)
        return 1


def stream_table(stats: list[StreamStats]) -> list[str]:
    """The lines of ``agora status``'s event-stream table (one line when none exist)."""
    if not stats:
        return ["event streams: none yet (no service has published an event)"]
    rows = [("EVENT STREAM", "LENGTH", "GROUP", "PENDING", "LAG", "CONSUMERS", "DEAD LETTERS")]
    for stream in stats:
        if not stream.groups:
            rows.append((stream.stream, str(stream.length), "-", "-", "-", "-", "-"))
        for group in stream.groups:
            rows.append(
                (
                    stream.stream,
                    str(stream.length),
                    group.name,
                    str(group.pending),
                    "-" if group.lag is None else str(group.lag),
                    str(group.consumers),
                    str(group.dead_letters),
                )
            )
    return _table(rows, right=frozenset({1, 3, 4, 5, 6}))


def print_event_streams(layout: MeshLayout, override: str | None) -> None:
    """Print the event-stream table of the mesh's Redis (or ``override``'s), or one line
    saying why it cannot be read; never raises for an unreachable Redis."""
    try:
        url = override or mesh_redis_url(layout.data_dir)
    except FileNotFoundError:
        print(f"event streams: no {layout.mesh_file} to find the mesh's Redis")
        return
    except MeshError as error:
        print(f"event streams: {error}")
        return
    try:
        stats = asyncio.run(_with_redis(url, stream_stats))
    except (errors.Unavailable, RedisError, OSError) as error:
        print(f"event streams: {_unreachable(url, error)}")
        return
    for line in stream_table(stats):
        print(line)
