"""The domain-error hierarchy every service's errors derive from.

Pure Python: domain and service layers raise these; one server interceptor
(``pkg.server.interceptors``) turns them into gRPC status codes with ``google.rpc.Status``
details (``ErrorInfo`` with the stable ``reason``, ``BadRequest`` field violations,
``RetryInfo``), following https://google.aip.dev/193.  Each service declares its own
subclasses (``UserNotFound(NotFound)``) with a stable ``reason``.

Reasons are values, not string literals: a member of the ``StrEnum`` that ``make gen``
writes from a contract's ``enum ErrorReason`` (``agora.<domain>.v1.reasons``, grpc-free:
``UserReason.USER_NOT_FOUND``; the shared ones are ``SharedReason``).  A member's value is
the ``ErrorInfo.reason`` string on the wire, so a reason missing from the contracts fails
at import and under mypy.  Only a reason relayed from another service's reply is a plain
string, marked as such with ``WireReason``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NewType, TypeAlias

from agora.errors.v1.reasons import SharedReason

ERROR_DOMAIN = "agora.local"

WireReason = NewType("WireReason", str)
"""A reason string this code did not choose: one read from a peer's ``ErrorInfo``
(``pkg.peer_errors``) and passed on unchanged."""

Reason: TypeAlias = StrEnum | WireReason
"""What ``DomainError.reason`` holds: a member of a generated ``ErrorReason`` enum, or a
``WireReason``; both are ``str`` and compare equal to the string on the wire."""


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: ``field`` is a dotted path (``user.display_name``, ``roles[0]``)."""

    field: str
    description: str
    reason: str = ""


class DomainError(Exception):
    """Base of all expected errors; ``reason`` is the stable machine-readable cause.

    ``reason`` (a ``Reason``) overrides the class's own, which each subclass declares as
    an enum member; the abstract base's ``ERROR`` is sent only for a bare ``DomainError``.
    ``metadata`` is free-form string data for ``google.rpc.ErrorInfo.metadata``.
    Subclasses fix the gRPC code through their base (``NotFound`` -> NOT_FOUND, ...).
    """

    reason: Reason = WireReason("ERROR")

    def __init__(
        self,
        message: str,
        *,
        reason: Reason | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(DomainError):
    """The request is malformed (INVALID_ARGUMENT, HTTP 400); carries field violations."""

    reason: Reason = SharedReason.INVALID_ARGUMENT

    def __init__(
        self,
        message: str,
        *,
        violations: Sequence[FieldViolation] = (),
        reason: Reason | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = list(violations)


class NotFound(DomainError):
    """The named resource does not exist (NOT_FOUND, HTTP 404)."""

    reason: Reason = SharedReason.NOT_FOUND


class AlreadyExists(DomainError):
    """The resource to create exists already (ALREADY_EXISTS, HTTP 409)."""

    reason: Reason = SharedReason.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    """The system is not in a state the operation needs (FAILED_PRECONDITION, HTTP 400)."""

    reason: Reason = SharedReason.FAILED_PRECONDITION


class Aborted(DomainError):
    """A concurrency conflict, e.g. an etag mismatch (ABORTED, HTTP 409)."""

    reason: Reason = SharedReason.ABORTED


class Unauthenticated(DomainError):
    """Missing, invalid or expired credentials (UNAUTHENTICATED, HTTP 401)."""

    reason: Reason = SharedReason.UNAUTHENTICATED


class InvalidCredentials(Unauthenticated):
    """The email and password do not match an account (UNAUTHENTICATED, HTTP 401).

    One class for the user service's VerifyCredentials and auth's Login, which mean the same
    thing.  Raised alike for an unknown email and a wrong password, and the message never
    says which (OWASP Authentication Cheat Sheet, "Authentication and Error Messages").
    """

    reason: Reason = SharedReason.INVALID_CREDENTIALS

    def __init__(self) -> None:
        super().__init__("wrong email or password")


class PermissionDenied(DomainError):
    """The caller is known but not allowed (PERMISSION_DENIED, HTTP 403)."""

    reason: Reason = SharedReason.PERMISSION_DENIED


class ResourceExhausted(DomainError):
    """Too many attempts (RESOURCE_EXHAUSTED, HTTP 429); ``retry_after`` in seconds."""

    reason: Reason = SharedReason.RESOURCE_EXHAUSTED

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        reason: Reason | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency is down or hung; the caller may retry (UNAVAILABLE, HTTP 503).

    ``retry_after`` is the suggested delay in seconds (default 1), sent as ``RetryInfo``
    and a ``retry-after`` trailer like ``ResourceExhausted``'s.
    """

    reason: Reason = SharedReason.UNAVAILABLE

    def __init__(
        self,
        message: str,
        *,
        retry_after: float = 1.0,
        reason: Reason | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after = retry_after


class InvalidField(InvalidArgument):
    """One field of a request is invalid (INVALID_ARGUMENT with one field violation).

    ``field`` names the field as the use case knows it (``email``, ``display_name``,
    ``update_mask``, ``page_token``); the entrypoint may prefix it with its message path
    (``pkg.fields.request_fields``).  ``reason`` is the violation's stable cause, a member
    of the service's generated ``ErrorReason`` enum (AIP-193), e.g.
    ``UserReason.EMAIL_INVALID``; it is the error's reason and its violation's.
    """

    reason: Reason = SharedReason.INVALID_FIELD

    def __init__(self, field: str, description: str, *, reason: Reason) -> None:
        super().__init__(
            f"{field}: {description}",
            reason=reason,
            violations=[FieldViolation(field=field, description=description, reason=reason)],
        )
        self.field = field
