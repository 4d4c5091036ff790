"""Every reason the auth service raises is a member of a generated contract enum:
``AuthReason`` (agora.auth.v1.ErrorReason), the shared ``SharedReason``, or (passed on from
the user service) ``UserReason``; no reason is a string literal."""

from __future__ import annotations

from pathlib import Path

import grpc

import services.auth
from agora.auth.v1 import auth_pb2
from agora.auth.v1.reasons import AuthReason
from pkg.peer_errors import domain_error
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons
from services.auth.domain import errors

OWN = declared_reasons(auth_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])


def test_the_generated_enum_holds_the_contracts_reasons_as_sent() -> None:
    assert {member.value for member in AuthReason} == OWN
    assert AuthReason.TOO_MANY_ATTEMPTS == "TOO_MANY_ATTEMPTS"


def test_every_domain_error_reason_is_an_auth_reason() -> None:
    reasons = error_class_reasons(errors)
    assert reasons["services.auth.domain.errors.TooManyAttempts"] is (AuthReason.TOO_MANY_ATTEMPTS)
    assert {k: r for k, r in reasons.items() if not isinstance(r, AuthReason)} == {}


def test_no_reason_in_the_service_is_a_string_literal() -> None:
    assert literal_reasons(Path(services.auth.__file__).parent) == {}


def test_the_user_service_being_down_has_a_declared_reason() -> None:
    down = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(),
        details="connection refused",
    )
    error = domain_error(down, "user")
    assert error is not None and error.reason == AuthReason.USER_UNAVAILABLE
