"""Every reason the user service raises is declared in its contract: agora.user.v1's
ErrorReason or the shared agora.errors.v1.ErrorReason."""

from __future__ import annotations

from pathlib import Path

import services.user
from agora.errors.v1 import errors_pb2
from agora.user.v1 import user_pb2
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons
from services.user.domain import errors

OWN = declared_reasons(user_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])
SHARED = declared_reasons(errors_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])


def test_every_domain_error_reason_is_in_the_user_enum() -> None:
    reasons = error_class_reasons(errors)
    assert "services.user.domain.errors.EmailTaken" in reasons
    assert {k: r for k, r in reasons.items() if r not in OWN} == {}


def test_every_reason_literal_in_the_service_is_declared() -> None:
    reasons = literal_reasons(Path(services.user.__file__).parent)
    assert "ROLE_INVALID" in reasons.values()
    assert {k: r for k, r in reasons.items() if r not in OWN | SHARED} == {}
