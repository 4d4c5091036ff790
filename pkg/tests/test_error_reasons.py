"""Every reason pkg/ raises is in the shared contract enum agora.errors.v1.ErrorReason."""

from __future__ import annotations

from pathlib import Path

import pkg
from agora.errors.v1 import errors_pb2
from pkg import errors
from pkg.server import _requests
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons

SHARED = declared_reasons(errors_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])
BASE_DEFAULTS = {"", "ERROR"}
"""``FieldViolation.reason``'s and the abstract ``DomainError.reason``'s defaults."""


def test_the_base_classes_reasons_are_declared() -> None:
    reasons = error_class_reasons(errors)
    assert len(reasons) >= 9
    assert {k: r for k, r in reasons.items() if r not in SHARED | BASE_DEFAULTS} == {}


def test_every_literal_reason_in_pkg_is_declared() -> None:
    reasons = literal_reasons(Path(pkg.__file__).parent)
    assert "DATABASE_UNAVAILABLE" in reasons.values()
    assert {k: r for k, r in reasons.items() if r not in SHARED | BASE_DEFAULTS} == {}


def test_request_parsing_reasons_are_declared() -> None:
    assert {_requests.MALFORMED, _requests.NUL} <= SHARED
