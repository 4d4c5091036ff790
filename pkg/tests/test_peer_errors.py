"""A peer's failed call becomes the domain error the peer raised (the inverse of
``pkg.server.to_status``); transport failures become ``Unavailable`` naming the peer, and
codes that mean a bug between services are not passed on."""

from __future__ import annotations

from enum import StrEnum

import grpc
import pytest
from grpc_status import rpc_status

from pkg import errors
from pkg.peer_errors import domain_error
from pkg.server import to_status


class _PeerReason(StrEnum):
    """The reasons of a peer's contract, as its generated enum would hold them."""

    THING_NOT_FOUND = "THING_NOT_FOUND"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    NOT_READY = "NOT_READY"
    ETAG_MISMATCH = "ETAG_MISMATCH"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    DISPLAY_NAME_INVALID = "DISPLAY_NAME_INVALID"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"


def _failed_call(error: errors.DomainError) -> grpc.aio.AioRpcError:
    status = rpc_status.to_status(to_status(error))
    return grpc.aio.AioRpcError(
        status.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata),
        details=status.details,
    )


@pytest.mark.parametrize(
    "sent",
    [
        errors.NotFound(
            "thing 7 does not exist", reason=_PeerReason.THING_NOT_FOUND, metadata={"thing": "7"}
        ),
        errors.AlreadyExists("taken", reason=_PeerReason.EMAIL_TAKEN),
        errors.FailedPrecondition("not yet", reason=_PeerReason.NOT_READY),
        errors.Aborted(
            "changed since read", reason=_PeerReason.ETAG_MISMATCH, metadata={"etag": 'W/"2"'}
        ),
        errors.Unauthenticated("who are you", reason=_PeerReason.INVALID_CREDENTIALS),
    ],
)
def test_a_peer_error_comes_back_with_its_class_message_reason_and_metadata(
    sent: errors.DomainError,
) -> None:
    received = domain_error(_failed_call(sent), "user")
    assert type(received) is type(sent)
    assert received is not None
    assert (received.message, received.reason, received.metadata) == (
        sent.message,
        sent.reason,
        sent.metadata,
    )


def test_field_violations_survive() -> None:
    sent = errors.InvalidField("display_name", "too long", reason=_PeerReason.DISPLAY_NAME_INVALID)
    received = domain_error(_failed_call(sent), "user")
    assert isinstance(received, errors.InvalidArgument)
    assert received.reason == "DISPLAY_NAME_INVALID"
    assert received.violations == [
        errors.FieldViolation("display_name", "too long", "DISPLAY_NAME_INVALID")
    ]


def test_the_retry_delay_survives() -> None:
    sent = errors.ResourceExhausted(
        "slow down", retry_after=7.5, reason=_PeerReason.TOO_MANY_ATTEMPTS
    )
    received = domain_error(_failed_call(sent), "user")
    assert isinstance(received, errors.ResourceExhausted)
    assert (received.retry_after, received.reason) == (7.5, "TOO_MANY_ATTEMPTS")


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_a_peer_that_is_down_is_unavailable_without_transport_text(code: grpc.StatusCode) -> None:
    call = grpc.aio.AioRpcError(
        code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(),
        details="failed to connect to 10.1.2.3:50052",
    )
    received = domain_error(call, "catalog")
    assert isinstance(received, errors.Unavailable)
    assert received.reason == "CATALOG_UNAVAILABLE"
    assert "10.1.2.3" not in received.message and "catalog" in received.message


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.UNIMPLEMENTED,
    ],
)
def test_codes_that_mean_a_bug_between_services_are_not_passed_on(code: grpc.StatusCode) -> None:
    call = grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="secret detail"
    )
    assert domain_error(call, "user") is None


def test_a_status_without_details_keeps_code_and_message() -> None:
    call = grpc.aio.AioRpcError(
        grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), grpc.aio.Metadata(), details="gone"
    )
    received = domain_error(call, "user")
    assert isinstance(received, errors.NotFound)
    assert (received.message, received.metadata) == ("gone", {})
