"""Every reason the user service raises is a member of a generated contract enum:
``UserReason`` (agora.user.v1.ErrorReason) or the shared ``SharedReason``
(agora.errors.v1.ErrorReason); no reason is a string literal."""

from __future__ import annotations

from pathlib import Path

import services.user
from agora.user.v1 import user_pb2
from agora.user.v1.reasons import UserReason
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons
from services.user.domain import errors

OWN = declared_reasons(user_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])


def test_the_generated_enum_holds_the_contracts_reasons_as_sent() -> None:
    assert {member.value for member in UserReason} == OWN
    assert UserReason.USER_NOT_FOUND == "USER_NOT_FOUND"


def test_every_domain_error_reason_is_a_user_reason() -> None:
    reasons = error_class_reasons(errors)
    assert reasons["services.user.domain.errors.EmailTaken"] is UserReason.EMAIL_TAKEN
    assert {k: r for k, r in reasons.items() if not isinstance(r, UserReason)} == {}


def test_no_reason_in_the_service_is_a_string_literal() -> None:
    assert literal_reasons(Path(services.user.__file__).parent) == {}
