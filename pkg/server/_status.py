"""Domain errors and validation failures as ``google.rpc.Status`` (AIP-193)."""

from __future__ import annotations

import math

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from pkg import errors

_CODES: list[tuple[type[errors.DomainError], int]] = [
    (errors.InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (errors.NotFound, code_pb2.NOT_FOUND),
    (errors.AlreadyExists, code_pb2.ALREADY_EXISTS),
    (errors.FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (errors.Aborted, code_pb2.ABORTED),
    (errors.Unauthenticated, code_pb2.UNAUTHENTICATED),
    (errors.PermissionDenied, code_pb2.PERMISSION_DENIED),
    (errors.ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
    (errors.Unavailable, code_pb2.UNAVAILABLE),
]


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: errors.DomainError) -> status_pb2.Status:
    """The ``google.rpc.Status`` for ``error``: its code, message and details.

    Details: always ``ErrorInfo`` (reason, domain ``agora.local``, metadata);
    ``BadRequest`` with field violations for ``InvalidArgument``; ``RetryInfo`` for
    ``ResourceExhausted``.
    """
    code = next((c for cls, c in _CODES if isinstance(error, cls)), code_pb2.UNKNOWN)
    details = [
        _pack(
            error_details_pb2.ErrorInfo(
                reason=error.reason, domain=errors.ERROR_DOMAIN, metadata=error.metadata
            )
        )
    ]
    if isinstance(error, errors.InvalidArgument) and error.violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description, reason=v.reason
                        )
                        for v in error.violations
                    ]
                )
            )
        )
    if isinstance(error, errors.ResourceExhausted | errors.Unavailable):
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(int(error.retry_after * 1000))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=code, message=error.message, details=details)


def retry_after_metadata(error: errors.DomainError) -> tuple[tuple[str, str], ...]:
    """A ``retry-after`` entry (whole seconds, rounded up) for ``ResourceExhausted`` and
    ``Unavailable``.

    Sent as trailing metadata of the (trailers-only) error response, so it reaches HTTP
    clients through the edge as the ``Retry-After`` header (RFC 9110 §10.2.3) beside the
    ``RetryInfo`` detail; empty for every other error.
    """
    if isinstance(error, errors.ResourceExhausted | errors.Unavailable):
        return (("retry-after", str(max(1, math.ceil(error.retry_after)))),)
    return ()


async def abort_with(
    context: grpc.aio.ServicerContext,
    status: status_pb2.Status,
    metadata: tuple[tuple[str, str], ...] = (),
) -> None:
    """Abort the RPC with ``status``, details in the ``grpc-status-details-bin`` trailer,
    and any extra trailing ``metadata``."""
    converted = rpc_status.to_status(status)
    await context.abort(
        converted.code, converted.details, (*converted.trailing_metadata, *metadata)
    )
