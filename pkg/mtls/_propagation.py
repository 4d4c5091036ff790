"""The running request's id, trace and deadline carried onward by outgoing calls:
``propagate`` (what ``pkg.mtls`` channels apply to every call, without an interceptor)
and ``PropagationInterceptor`` (the same for any other ``grpc.aio`` channel)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

import grpc

from pkg.obs import current, remaining


def propagate(
    timeout: float | None, metadata: Iterable[tuple[str, Any]] | None, wait_for_ready: bool | None
) -> tuple[float | None, tuple[tuple[str, Any], ...], bool | None]:
    """An outgoing call's ``timeout`` (seconds), ``metadata`` and ``wait_for_ready`` as
    ``PropagationInterceptor`` describes them: ``x-request-id`` and a W3C ``traceparent``
    added unless set, the timeout cut to what is left of the incoming deadline, and
    wait-for-ready when a deadline bounds the call and the caller did not choose."""
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


def _details(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    timeout, metadata, wait_for_ready = propagate(
        details.timeout, details.metadata, details.wait_for_ready
    )
    return grpc.aio.ClientCallDetails(
        details.method, timeout, grpc.aio.Metadata(*metadata), details.credentials, wait_for_ready
    )


class PropagationInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
):
    """Adds ``x-request-id`` and a W3C ``traceparent`` (trace id of the running request,
    new parent span id) to every outgoing call made while serving a request, unless the
    caller set them, and sets the call's timeout to ``min(its own, what is left of the
    incoming call's deadline)`` (``pkg.obs.remaining``), so deadlines propagate
    edge -> service -> service.  A call with a deadline that did not choose otherwise waits
    for a ready address within it (gRPC's wait-for-ready) instead of failing at once while
    every address is reconnecting, e.g. during a rolling restart of the peer."""

    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_details(client_call_details), request)

    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_details(client_call_details), request)

    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(_details(client_call_details), request_iterator)

    async def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(_details(client_call_details), request_iterator)
