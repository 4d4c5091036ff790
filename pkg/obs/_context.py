"""Request-scoped fields in a ``contextvars.ContextVar`` (safe across asyncio tasks)."""

from __future__ import annotations

import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from random import getrandbits
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
_NAMES = frozenset(vars(_EMPTY))
_FIELDS: ContextVar[RequestFields] = ContextVar("agora_request_fields", default=_EMPTY)


def current() -> RequestFields:
    """The fields bound to the running request (all empty outside one)."""
    return _FIELDS.get()


class request_context:
    """Bind ``fields`` (names of ``RequestFields``) over the current ones for a ``with``
    block, which gets the bound ``RequestFields``; ``TypeError`` for an unknown name.

    A plain class rather than ``contextlib.contextmanager`` (no generator per block) and a
    copy of the fields' ``__dict__`` rather than ``dataclasses.replace``: every RPC binds
    twice.
    """

    __slots__ = ("_fields", "_token")

    def __init__(self, **fields: Any) -> None:
        unknown = fields.keys() - _NAMES
        if unknown:
            raise TypeError(f"not a request field: {', '.join(sorted(unknown))}")
        self._fields = fields

    def __enter__(self) -> RequestFields:
        bound = object.__new__(RequestFields)
        bound.__dict__.update(_FIELDS.get().__dict__, **self._fields)
        self._token = _FIELDS.set(bound)
        return bound

    def __exit__(self, *exc_info: object) -> None:
        _FIELDS.reset(self._token)


def remaining() -> float | None:
    """Seconds left until the running request's deadline (0 when passed); ``None`` if the
    request has no deadline or there is no request."""
    deadline = _FIELDS.get().deadline
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def new_request_id() -> str:
    """A fresh random 128-bit id as 32 lowercase hex digits: a request id, and also a valid
    W3C trace id (https://www.w3.org/TR/trace-context/#trace-id) for a new trace.

    Drawn from ``random.getrandbits`` (not a secret: ids are printed in logs and sent
    back), as OpenTelemetry's ``RandomIdGenerator`` draws trace ids; never all zeros.
    """
    return f"{getrandbits(128) or 1:032x}"


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
