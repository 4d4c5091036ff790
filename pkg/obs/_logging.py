"""JSON log lines on stderr, one object per line, with the request fields merged in."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from pkg.obs._context import current


class _RequestFieldsFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current()
        record.service = self.service
        for name in ("rpc", "request_id", "trace_id", "span_id", "subject", "caller"):
            value = getattr(fields, name)
            if value and not hasattr(record, name):
                setattr(record, name, value)
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (test runners swap it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send the root logger's records to stderr as JSON with ``service`` and request fields.

    Idempotent: replaces the handlers a previous call installed.  ``level`` is a standard
    level name (``DEBUG``, ``INFO``, ...); raises ``ValueError`` for an unknown one.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    ))
    handler.addFilter(_RequestFieldsFilter(service))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)


def get_logger(name: str) -> logging.Logger:
    """A standard logger; ``configure_logging`` decides where and how it writes."""
    return logging.getLogger(name)
