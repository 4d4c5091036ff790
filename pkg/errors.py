"""The domain-error hierarchy every service's errors derive from.

Pure Python: domain and service layers raise these; one server interceptor
(``pkg.server.interceptors``) turns them into gRPC status codes with ``google.rpc.Status``
details (``ErrorInfo`` with the stable ``reason``, ``BadRequest`` field violations,
``RetryInfo``), following https://google.aip.dev/193.  Each service declares its own
subclasses (``UserNotFound(NotFound)``) with a stable ``reason`` in UPPER_SNAKE_CASE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ERROR_DOMAIN = "agora.local"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: ``field`` is a dotted path (``user.display_name``, ``roles[0]``)."""

    field: str
    description: str
    reason: str = ""


class DomainError(Exception):
    """Base of all expected errors; ``reason`` is the stable machine-readable cause.

    ``metadata`` is free-form string data for ``google.rpc.ErrorInfo.metadata``.
    Subclasses fix the gRPC code through their base (``NotFound`` -> NOT_FOUND, ...).
    """

    reason: str = "ERROR"

    def __init__(self, message: str, *, reason: str | None = None,
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(DomainError):
    """The request is malformed (INVALID_ARGUMENT, HTTP 400); carries field violations."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, message: str, *, violations: Sequence[FieldViolation] = (),
                 reason: str | None = None, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = list(violations)


class NotFound(DomainError):
    """The named resource does not exist (NOT_FOUND, HTTP 404)."""

    reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    """The resource to create exists already (ALREADY_EXISTS, HTTP 409)."""

    reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The system is not in a state the operation needs (FAILED_PRECONDITION, HTTP 400)."""

    reason = "FAILED_PRECONDITION"


class Aborted(DomainError):
    """A concurrency conflict, e.g. an etag mismatch (ABORTED, HTTP 409)."""

    reason = "ABORTED"


class Unauthenticated(DomainError):
    """Missing, invalid or expired credentials (UNAUTHENTICATED, HTTP 401)."""

    reason = "UNAUTHENTICATED"


class InvalidCredentials(Unauthenticated):
    """The email and password do not match an account (UNAUTHENTICATED, HTTP 401).

    One class for the user service's VerifyCredentials and auth's Login, which mean the same
    thing.  Raised alike for an unknown email and a wrong password, and the message never
    says which (OWASP Authentication Cheat Sheet, "Authentication and Error Messages").
    """

    reason = "INVALID_CREDENTIALS"

    def __init__(self) -> None:
        super().__init__("wrong email or password")


class PermissionDenied(DomainError):
    """The caller is known but not allowed (PERMISSION_DENIED, HTTP 403)."""

    reason = "PERMISSION_DENIED"


class ResourceExhausted(DomainError):
    """Too many attempts (RESOURCE_EXHAUSTED, HTTP 429); ``retry_after`` in seconds."""

    reason = "RESOURCE_EXHAUSTED"

    def __init__(self, message: str, *, retry_after: float, reason: str | None = None,
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency is down or hung; the caller may retry (UNAVAILABLE, HTTP 503).

    ``retry_after`` is the suggested delay in seconds (default 1), sent as ``RetryInfo``
    and a ``retry-after`` trailer like ``ResourceExhausted``'s.
    """

    reason = "UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: float = 1.0, reason: str | None = None,
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after = retry_after


class InvalidField(InvalidArgument):
    """One field of a request is invalid (INVALID_ARGUMENT with one field violation).

    ``field`` names the field as the use case knows it (``email``, ``display_name``,
    ``update_mask``, ``page_token``); the entrypoint may prefix it with its message path
    (``pkg.fields.request_fields``).  ``reason`` is the violation's stable cause, declared
    in the service's ``ErrorReason`` enum (AIP-193).
    """

    reason = "INVALID_FIELD"

    def __init__(self, field: str, description: str, *, reason: str) -> None:
        super().__init__(f"{field}: {description}", reason=reason,
                         violations=[FieldViolation(field=field, description=description,
                                                    reason=reason)])
        self.field = field
