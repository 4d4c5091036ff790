"""Errors of the auth domain, each a subclass of a ``pkg.errors`` base (fixes the code).

Stable reasons (``google.rpc.ErrorInfo.reason``) are part of the API: clients branch on
``REFRESH_TOKEN_REUSED`` (log the user out everywhere), ``SESSION_EXPIRED`` (log in again)
and ``TOO_MANY_ATTEMPTS`` (wait ``RetryInfo.retry_delay``).
"""

from __future__ import annotations

from agora.auth.v1.reasons import AuthReason
from pkg.errors import PermissionDenied, ResourceExhausted, Unauthenticated


class InvalidRefreshToken(Unauthenticated):
    """The refresh token is unknown, expired or its family was revoked (UNAUTHENTICATED)."""

    reason = AuthReason.INVALID_REFRESH_TOKEN

    def __init__(self, message: str = "the refresh token is invalid or has expired") -> None:
        super().__init__(message)


class RefreshTokenReused(Unauthenticated):
    """A refresh token that was already rotated was presented again (UNAUTHENTICATED).

    The token family has been revoked: either the client or an attacker holds a stolen
    copy, and the server cannot tell which (RFC 6819 §4.14.2; OAuth 2.1 draft §6.1).
    """

    reason = AuthReason.REFRESH_TOKEN_REUSED

    def __init__(self) -> None:
        super().__init__(
            "the refresh token was already used; every session of its family has been revoked"
        )


class SessionExpired(Unauthenticated):
    """The refresh token's family outlived its absolute lifetime (UNAUTHENTICATED).

    However often it was refreshed, a session ends ``AGORA_AUTH_FAMILY_LIFETIME_SECONDS``
    after its login or registration; the client must log in again.
    """

    reason = AuthReason.SESSION_EXPIRED

    def __init__(self) -> None:
        super().__init__("the session has reached its maximum lifetime; log in again")


class TooManyAttempts(ResourceExhausted):
    """Too many failed logins (or refused Register replays) for an account or client
    address (RESOURCE_EXHAUSTED).

    ``retry_after`` is in seconds until the throttle window that blocks the login ends.
    ``scope`` (``account`` or ``address``) goes to ``ErrorInfo.metadata``.
    """

    reason = AuthReason.TOO_MANY_ATTEMPTS

    def __init__(self, *, retry_after: float, scope: str) -> None:
        super().__init__(
            "too many failed login attempts; try again later",
            retry_after=retry_after,
            metadata={"scope": scope},
        )


class AccountDisabled(PermissionDenied):
    """The credentials are right but an admin disabled the account (PERMISSION_DENIED)."""

    reason = AuthReason.ACCOUNT_DISABLED

    def __init__(self) -> None:
        super().__init__("this account is disabled")
