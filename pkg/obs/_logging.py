"""JSON log lines, one object per line, with the request fields merged in.

Lines go to the file named by ``configure_logging(file=...)`` (``agora up`` passes
``AGORA_LOG_FILE=<data>/logs/<program>.log``), written by the process itself through a
``JsonLineFileHandler`` (reopened when rotated away, checked at most once a second), or to
stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import traceback

from pkg.obs._context import current

_REQUEST_FIELDS = ("rpc", "request_id", "trace_id", "span_id", "subject", "caller")
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "service",
}


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (RFC 3339, UTC, milliseconds), ``level``,
    ``logger``, ``message``, ``service``, the bound request fields that are set (``rpc``,
    ``request_id``, ``trace_id``, ``span_id``, ``subject``, ``caller``), every ``extra``
    field, and ``exc_info`` (the formatted traceback) when there is one.

    Built by hand with ``json.dumps`` (no per-field formatting machinery): the access log
    writes one line per RPC.  Values ``json`` cannot encode are written as ``str(value)``.
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line (no trailing newline)."""
        line: dict[str, object] = {
            "time": _rfc3339(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        fields = current()
        for name in _REQUEST_FIELDS:
            value = getattr(fields, name)
            if value:
                line[name] = value
        for key, value in record.__dict__.items():
            if key not in _RESERVED:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, default=str, ensure_ascii=False)


_second: tuple[int, str] = (-1, "")


def _rfc3339(created: float) -> str:
    # The date and time part is formatted once per second and reused (records of a busy
    # server share it); only the milliseconds change.
    global _second
    whole = int(created)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((created - whole) * 1000):03d}Z"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (test runners swap it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class JsonLineFileHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Appends each record as one line (UTF-8) to ``path``, reopening the file when it has
    been moved or deleted (logrotate's ``create`` mode), like
    ``logging.handlers.WatchedFileHandler`` but checking (one ``os.stat``) at most once
    every ``CHECK_INTERVAL`` seconds rather than on every record: lines written in the
    second after a rotation still go to the old file.

    Lines below ``WARNING`` logged from a thread running an asyncio event loop (the access
    log of a server under load) are written together at the loop's next iteration, one
    ``write`` for all the lines of an iteration rather than one per line; a ``WARNING`` or
    worse, a line logged where no event loop runs, ``flush()`` and ``close()`` write every
    pending line at once.  Raises ``OSError`` when ``path`` cannot be opened.
    """

    CHECK_INTERVAL = 1.0

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        super().__init__(self._open())
        self._next_check = time.monotonic() + self.CHECK_INTERVAL
        self._pending: list[str] = []
        self._scheduled_on: asyncio.AbstractEventLoop | None = None

    def _open(self) -> object:
        stream = open(self.path, "a", encoding="utf-8")
        self._identity = _identity(os.fstat(stream.fileno()))
        return stream

    def _reopen_if_moved(self) -> None:
        try:
            moved = _identity(os.stat(self.path)) != self._identity
        except FileNotFoundError:
            moved = True
        if moved:
            old, self.stream = self.stream, self._open()
            old.close()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue ``record`` as one line (see the class); errors go to ``handleError``."""
        try:
            self._pending.append(self.format(record) + "\n")
            loop = asyncio._get_running_loop() if record.levelno < logging.WARNING else None
            if loop is None:
                self._write_pending()
            elif loop is not self._scheduled_on:
                self._scheduled_on = loop
                loop.call_soon(self._write_scheduled, loop)
        except Exception:
            self.handleError(record)

    def _write_scheduled(self, loop: asyncio.AbstractEventLoop) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._scheduled_on is loop:
                self._scheduled_on = None
            try:
                self._write_pending()
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": "writing the log file"}))

    def _write_pending(self) -> None:
        if not self._pending:
            return
        lines, self._pending = "".join(self._pending), []
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.CHECK_INTERVAL
            self._reopen_if_moved()
        self.stream.write(lines)
        self.stream.flush()

    def flush(self) -> None:
        """Write the pending lines and flush the file."""
        with self.lock:  # type: ignore[union-attr]
            if self.stream and not self.stream.closed:
                self._write_pending()
                self.stream.flush()

    def close(self) -> None:
        """Write the pending lines and close the file."""
        self.acquire()
        try:
            if not self.stream.closed:
                self._write_pending()
            self.stream.close()
        finally:
            self.release()
            super().close()


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _lean_records() -> None:
    # Fields the JSON line never carries: skip computing them for every record, as the
    # logging HOWTO's "Optimization" section advises (caller's frame, thread, process ids).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    if hasattr(logging, "logAsyncioTasks"):
        logging.logAsyncioTasks = False


def configure_logging(service: str, level: str = "INFO", file: str | None = None) -> None:
    """Send the root logger's records as JSON lines (``JsonLineFormatter``) to ``file``
    (``JsonLineFileHandler``: appended to, reopened within a second when moved or deleted)
    or, when ``file`` is empty, to stderr.  Records no longer carry the caller's file and
    line, thread or process (the line has no place for them).

    Idempotent: replaces the handlers a previous call installed.  ``level`` is a standard
    level name (``DEBUG``, ``INFO``, ...); raises ``ValueError`` for an unknown one and
    ``OSError`` when ``file`` cannot be opened.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler: logging.Handler = JsonLineFileHandler(file) if file else _StderrHandler()
    _lean_records()
    handler.setFormatter(JsonLineFormatter(service))
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old.formatter, JsonLineFormatter):
            old.close()
    root.handlers = [handler]
    root.setLevel(numeric)


def get_logger(name: str) -> logging.Logger:
    """A standard logger; ``configure_logging`` decides where and how it writes."""
    return logging.getLogger(name)
