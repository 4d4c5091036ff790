"""The running request's id, trace and deadline carried onward by outgoing calls
(``propagate``, applied by every call of a ``pkg.mtls`` channel)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from pkg.obs import current, remaining


def propagate(
    timeout: float | None, metadata: Iterable[tuple[str, Any]] | None, wait_for_ready: bool | None
) -> tuple[float | None, tuple[tuple[str, Any], ...], bool | None]:
    """An outgoing call's ``timeout`` (seconds), ``metadata`` and ``wait_for_ready`` while
    serving a request.

    Adds ``x-request-id`` and a W3C ``traceparent`` (trace id of the running request, new
    parent span id) unless the caller set them, and cuts the timeout to ``min(its own,
    what is left of the incoming call's deadline)`` (``pkg.obs.remaining``), so deadlines
    propagate edge -> service -> service.  A call with a deadline that did not choose
    otherwise waits for a ready address within it (gRPC's wait-for-ready) instead of
    failing at once while every address is reconnecting, e.g. during a rolling restart of
    the peer.  Outside a request nothing is added and the timeout is the caller's.
    """
    fields = current()
    pairs = list(metadata or ())
    if fields.request_id or fields.trace_id:
        keys = {key for key, _ in pairs}
        if fields.request_id and "x-request-id" not in keys:
            pairs.append(("x-request-id", fields.request_id))
        if fields.trace_id and "traceparent" not in keys:
            pairs.append(("traceparent", f"00-{fields.trace_id}-{secrets.token_hex(8)}-01"))
    left = remaining()
    if left is not None:
        timeout = left if timeout is None else min(timeout, left)
    if wait_for_ready is None and timeout is not None:
        wait_for_ready = True
    return timeout, tuple(pairs), wait_for_ready
