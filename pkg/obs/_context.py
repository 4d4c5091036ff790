"""Request-scoped fields in a ``contextvars.ContextVar`` (safe across asyncio tasks)."""

from __future__ import annotations

import contextlib
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


@dataclass(frozen=True)
class RequestFields:
    """What every log line of a request carries; empty strings when unknown."""

    rpc: str = ""
    request_id: str = ""
    trace_id: str = ""
    span_id: str = ""
    subject: str = ""
    caller: str = ""
    deadline: float | None = None
    """The incoming call's deadline on the ``time.monotonic()`` clock; ``None`` if none."""


_EMPTY = RequestFields()
_FIELDS: ContextVar[RequestFields] = ContextVar("agora_request_fields", default=_EMPTY)


def current() -> RequestFields:
    """The fields bound to the running request (all empty outside one)."""
    return _FIELDS.get()


@contextlib.contextmanager
def request_context(**fields: Any) -> Iterator[RequestFields]:
    """Bind ``fields`` (names of ``RequestFields``) over the current ones for a block."""
    token = _FIELDS.set(replace(_FIELDS.get(), **fields))
    try:
        yield _FIELDS.get()
    finally:
        _FIELDS.reset(token)


def remaining() -> float | None:
    """Seconds left until the running request's deadline (0 when passed); ``None`` if the
    request has no deadline or there is no request."""
    deadline = _FIELDS.get().deadline
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def new_request_id() -> str:
    """A fresh request id (UUID4 text)."""
    return str(uuid.uuid4())


def parse_traceparent(value: str | None) -> tuple[str, str]:
    """Return ``(trace_id, parent_span_id)`` from a W3C ``traceparent`` header.

    Follows https://www.w3.org/TR/trace-context/#traceparent-header; a missing or
    malformed header starts a new trace (random 128-bit trace id, 64-bit span id).
    """
    if value:
        match = _TRACEPARENT.match(value.strip().lower())
        if match and match.group(1) != "0" * 32:
            return match.group(1), match.group(2)
    return secrets.token_hex(16), secrets.token_hex(8)
