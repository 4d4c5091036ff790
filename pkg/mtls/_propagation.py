"""A client interceptor carrying the running request's id, trace and deadline onward."""

from __future__ import annotations

import secrets
from typing import Any

import grpc

from pkg.obs import current, remaining


def _details(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    fields = current()
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    if fields.request_id and "x-request-id" not in metadata:
        metadata.add("x-request-id", fields.request_id)
    if fields.trace_id and "traceparent" not in metadata:
        metadata.add("traceparent", f"00-{fields.trace_id}-{secrets.token_hex(8)}-01")
    timeout = details.timeout
    left = remaining()
    if left is not None:
        timeout = left if timeout is None else min(timeout, left)
    wait_for_ready = details.wait_for_ready
    if wait_for_ready is None and timeout is not None:
        wait_for_ready = True
    return grpc.aio.ClientCallDetails(
        details.method, timeout, metadata, details.credentials, wait_for_ready
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
