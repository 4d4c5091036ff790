"""Observability: JSON logs carrying service, RPC, request id and trace ids.

Public surface: ``configure_logging``, ``get_logger``, ``request_context`` (bind the
per-request fields for the duration of a block), ``current`` (read them),
``remaining`` (seconds left before the request's deadline), and
``new_request_id`` / ``parse_traceparent`` for the interceptor that starts a request.
"""

from pkg.obs._context import (
    RequestFields,
    current,
    new_request_id,
    parse_traceparent,
    remaining,
    request_context,
)
from pkg.obs._logging import configure_logging, get_logger

__all__ = [
    "RequestFields",
    "configure_logging",
    "current",
    "get_logger",
    "new_request_id",
    "parse_traceparent",
    "remaining",
    "request_context",
]
