"""JSON log lines, one object per line, with the request fields merged in.

Lines go to the file named by ``configure_logging(file=...)`` (``agora up`` passes
``AGORA_LOG_FILE=<data>/logs/<program>.log``), written by the process itself through a
``JsonLineFileHandler`` (reopened when rotated away, checked at most once a second), or to
stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from datetime import UTC, datetime

from pkg.obs._context import current

_REQUEST_FIELDS = ("rpc", "request_id", "trace_id", "span_id", "subject", "caller")
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "service"}


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
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
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
    second after a rotation still go to the old file.  Raises ``OSError`` when ``path``
    cannot be opened.
    """

    CHECK_INTERVAL = 1.0

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        super().__init__(self._open())
        self._next_check = time.monotonic() + self.CHECK_INTERVAL

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
        """Write ``record`` as one line and flush; errors go to ``handleError``."""
        try:
            line = self.format(record) + "\n"
            now = time.monotonic()
            if now >= self._next_check:
                self._next_check = now + self.CHECK_INTERVAL
                self._reopen_if_moved()
            self.stream.write(line)
            self.stream.flush()
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        """Close the file."""
        self.acquire()
        try:
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
