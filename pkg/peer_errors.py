"""A peer's failed gRPC call, turned back into a ``pkg.errors`` domain error.

For every client adapter that calls another service.  The inverse of
``pkg.server.to_status`` (AIP-193): code, message, ``ErrorInfo`` reason and metadata,
``BadRequest`` field violations and ``RetryInfo`` survive, so re-raising the result through
the calling service's error interceptor gives its caller the status the peer sent.
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from pkg import errors

_PASSED_THROUGH: dict[grpc.StatusCode, type[errors.DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.ABORTED: errors.Aborted,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhausted,
}


def error_reason(call: grpc.aio.AioRpcError) -> str:
    """The ``ErrorInfo`` reason (AIP-193) of ``call``'s status details, or ``""``."""
    status = rpc_status.from_call(call)
    info = error_details_pb2.ErrorInfo()
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
            return str(info.reason)
    return ""


def domain_error(call: grpc.aio.AioRpcError, service: str) -> errors.DomainError | None:
    """The domain error matching ``call``'s status, or ``None`` for codes not passed on.

    The peer's ``ErrorInfo`` reason is kept as it came (a ``pkg.errors.WireReason``).
    UNAVAILABLE and DEADLINE_EXCEEDED become ``Unavailable`` naming ``service`` (reason
    ``<SERVICE>_UNAVAILABLE``, which the calling service's contract must declare), without
    the transport's text, which names internal addresses.  PERMISSION_DENIED, INTERNAL,
    UNKNOWN and the rest return ``None``: they mean a bug or misconfiguration between
    services, not something the end user caused, so the caller should re-raise the
    original error (INTERNAL, logged).
    """
    code = call.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return errors.Unavailable(
            f"the {service} service is unavailable; try again",
            reason=errors.WireReason(f"{service.upper()}_UNAVAILABLE"),
        )
    cls = _PASSED_THROUGH.get(code)
    if cls is None:
        return None
    status = rpc_status.from_call(call)
    message = call.details() or code.name.lower()
    info = error_details_pb2.ErrorInfo()
    violations: list[errors.FieldViolation] = []
    retry_after = 1.0
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [
                errors.FieldViolation(v.field, v.description, v.reason)
                for v in bad.field_violations
            ]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_after = retry.retry_delay.ToMilliseconds() / 1000
    reason = errors.WireReason(info.reason) if info.reason else None
    metadata = dict(info.metadata)
    if cls is errors.InvalidArgument:
        return errors.InvalidArgument(
            message, violations=violations, reason=reason, metadata=metadata
        )
    if cls is errors.ResourceExhausted:
        return errors.ResourceExhausted(
            message, retry_after=retry_after, reason=reason, metadata=metadata
        )
    return cls(message, reason=reason, metadata=metadata)
