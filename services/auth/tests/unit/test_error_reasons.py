"""Every reason the auth service raises is declared in a contract: agora.auth.v1's
ErrorReason, the shared agora.errors.v1.ErrorReason, or (passed on from the user service)
agora.user.v1's ErrorReason."""

from __future__ import annotations

from pathlib import Path

import grpc

import services.auth
from agora.auth.v1 import auth_pb2
from agora.errors.v1 import errors_pb2
from agora.user.v1 import user_pb2
from pkg.peer_errors import domain_error
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons
from services.auth.domain import errors

OWN = declared_reasons(auth_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])
SHARED = declared_reasons(errors_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])
USER = declared_reasons(user_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])


def test_every_domain_error_reason_is_in_the_auth_enum() -> None:
    reasons = error_class_reasons(errors)
    assert "services.auth.domain.errors.TooManyAttempts" in reasons
    assert {k: r for k, r in reasons.items() if r not in OWN} == {}


def test_every_reason_literal_in_the_service_is_declared() -> None:
    reasons = literal_reasons(Path(services.auth.__file__).parent)
    assert "TOKEN_INVALID" in reasons.values()
    assert {k: r for k, r in reasons.items() if r not in OWN | SHARED} == {}


def test_the_user_service_being_down_has_a_declared_reason() -> None:
    down = grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(),
                                grpc.aio.Metadata(), details="connection refused")
    error = domain_error(down, "user")
    assert error is not None and error.reason in OWN
