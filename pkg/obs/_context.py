"""Request-scoped fields in a ``contextvars.ContextVar`` (safe across asyncio tasks)."""

from __future__ import annotations

import contextlib
import re
import secrets
import time
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
    """A fresh random 128-bit id as 32 lowercase hex digits: a request id, and also a valid
    W3C trace id (https://www.w3.org/TR/trace-context/#trace-id) for a new trace."""
    return secrets.token_hex(16)


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """Return ``(trace_id, parent_span_id)`` from a W3C ``traceparent`` header, or ``None``
    when it is missing or malformed (the caller then starts a new trace).

    Follows https://www.w3.org/TR/trace-context/#traceparent-header (version 00; an
    all-zero trace id is invalid).
    """
    if value:
        match = _TRACEPARENT.match(value.strip().lower())
        if match and match.group(1) != "0" * 32:
            return match.group(1), match.group(2)
    return None
