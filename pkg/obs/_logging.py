"""JSON log lines, one object per line, with the request fields merged in.

Lines go to the file named by ``configure_logging(file=...)`` (``agora up`` passes
``AGORA_LOG_FILE=<data>/logs/<program>.log``), written by the process itself through a
``logging.handlers.WatchedFileHandler`` (reopened when rotated away), or to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from logging.handlers import WatchedFileHandler

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


def configure_logging(service: str, level: str = "INFO", file: str | None = None) -> None:
    """Send the root logger's records as JSON lines (``JsonLineFormatter``) to ``file``
    (appended to, reopened when moved or deleted) or, when ``file`` is empty, to stderr.

    Idempotent: replaces the handlers a previous call installed.  ``level`` is a standard
    level name (``DEBUG``, ``INFO``, ...); raises ``ValueError`` for an unknown one and
    ``OSError`` when ``file`` cannot be opened.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler: logging.Handler = (WatchedFileHandler(file, encoding="utf-8") if file
                                else _StderrHandler())
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
