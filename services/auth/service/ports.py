"""Ports of the auth use cases, declared here by their consumer (kratos-layout).

Adapters in ``services.auth.adapters`` implement them over Redis, files and the user
service's gRPC stub; ``services/auth/tests/fakes.py`` implements them in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec

from services.auth.domain import Account, NewAccount, Rotation, ThrottleKey, TokenFamily


class UserDirectory(Protocol):
    """The user service, as far as auth needs it."""

    async def create_user(self, account: NewAccount) -> Account:
        """Create the user and return it; idempotent per ``account.request_id`` (ADR 0012).

        A repeat of the same registration with the same password returns the same user;
        anything else under that ``request_id`` raises ``InvalidArgument`` (reason
        ``IDEMPOTENCY_KEY_REUSED``) and returns no account.  Raises the user service's
        errors as ``pkg.errors`` (``AlreadyExists`` for a taken email, ``InvalidArgument``
        with field violations, ``Unavailable``).
        """
        ...

    async def verify_credentials(self, email: str, password: str) -> Account:
        """The account whose email and password these are; ``InvalidCredentials`` if none,
        ``AccountDisabled`` when they are right but an admin disabled the account."""
        ...


class RequestLog(Protocol):
    """Register ``request_id``s seen within the idempotency window (ADR 0012, ADR 0020)."""

    async def first_use(self, request_id: str) -> bool:
        """Record ``request_id``; ``True`` when it was not seen within the window.

        A ``False`` marks a replay, which may repeat a registration whose password the
        user service checks, so it goes through the login throttle.
        """
        ...


class TokenStore(Protocol):
    """Refresh-token families, holding only SHA-256 hashes of tokens.

    Every family and token lives for the store's refresh TTL after its last rotation, but
    never past the family's ``expires_at``.
    """

    async def create_family(self, family: TokenFamily, token_hash: str) -> None:
        """Store a new family whose first (current) token has hash ``token_hash``."""
        ...

    async def rotate(self, token_hash: str, successor_hash: str, *, now: datetime) -> Rotation:
        """Atomically rotate ``token_hash`` out and make ``successor_hash`` current.

        Outcomes: ROTATED (with the family), REUSED (the token was rotated before: the
        family is revoked now), REVOKED, EXPIRED (``now``, aware, is at or past the
        family's ``expires_at``: it is revoked now and nothing is rotated), UNKNOWN.  Of
        two concurrent calls with the same hash at most one is ROTATED.
        """
        ...

    async def revoke_family_of(self, token_hash: str) -> bool:
        """Revoke the family of ``token_hash``; ``False`` when there is none (no error)."""
        ...

    async def revoke_user(self, user_id: str) -> int:
        """Revoke every family of ``user_id``; return how many were live."""
        ...

    async def revoke_user_once(self, user_id: str, *, event_id: str) -> int | None:
        """``revoke_user`` on behalf of the event ``event_id``, atomically with recording
        that event as applied (the inbox); ``None``, and nothing revoked, when it was
        applied before (a redelivery must not end sessions opened since)."""
        ...


class AttemptThrottle(Protocol):
    """Counters of failed attempts in fixed windows (one per ``ThrottleKey``)."""

    async def blocked(self, keys: Sequence[ThrottleKey]) -> tuple[ThrottleKey, float] | None:
        """The first key at its limit with the seconds until its window ends, or ``None``."""
        ...

    async def record_failure(self, keys: Sequence[ThrottleKey]) -> None:
        """Count one failure against every key (a key's window starts at its first)."""
        ...

    async def reset(self, key: ThrottleKey) -> None:
        """Forget the failures counted against ``key``."""
        ...


@dataclass(frozen=True)
class SigningKey:
    """An ES256 signing key (ECDSA P-256, RFC 7518 §3.4) and its JWK ``kid``.

    ``created_at`` is a Unix time in seconds: when the key was published; it signs from
    ``created_at`` plus the activation delay (``AccessTokens``).
    """

    kid: str
    private_key: ec.EllipticCurvePrivateKey
    created_at: float


class SigningKeys(Protocol):
    """The signing keys that are not retired: every one is published in the JWKS.

    Which of them signs is decided by ``AccessTokens`` from their ``created_at``.
    """

    async def verification_keys(self) -> Mapping[str, SigningKey]:
        """Every key that is not retired, by ``kid``, newest first."""
        ...
