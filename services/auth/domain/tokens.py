"""Tokens: access-token claims, opaque refresh tokens, token families and their states.

A token family is the chain of refresh tokens issued from one login (or registration).
Each refresh rotates the presented token out and issues its successor in the same
family; presenting a rotated token again revokes the whole family (RFC 6819 §4.14.2,
"refresh token rotation"; OAuth 2.1 draft-ietf-oauth-v2-1 §6.1).  A family ends at an
absolute expiry fixed when it is opened, however often it is rotated (OAuth 2.1 draft
§4.3.1: refresh tokens "expire after a certain amount of time").
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

REFRESH_TOKEN_BYTES = 32
"""Random bytes per refresh token: 256 bits, encoded as 43 URL-safe characters."""


class RefreshOutcome(enum.Enum):
    """What presenting a refresh token led to (the token store's answer)."""

    ROTATED = "rotated"
    """The token was the family's current one; it is now rotated and a successor issued."""
    REUSED = "reused"
    """The token had been rotated already; the family is now revoked."""
    REVOKED = "revoked"
    """The family was revoked earlier (logout, or a previous reuse)."""
    UNKNOWN = "unknown"
    """No such token, or its family's records are gone (expired)."""
    EXPIRED = "expired"
    """The family reached its absolute expiry; it is revoked now."""


@dataclass(frozen=True)
class TokenFamily:
    """One login session's refresh-token chain: owner, roles granted, lifetime.

    ``created_at`` and ``expires_at`` are timezone-aware; ``expires_at`` is the absolute
    end of the session, fixed when the family is opened and never moved by a rotation.
    ``roles`` are copied into every access token of the family (lower-case role names).
    """

    family_id: str
    user_id: str
    roles: tuple[str, ...]
    created_at: datetime
    expires_at: datetime

    @classmethod
    def open(
        cls, *, user_id: str, roles: tuple[str, ...], now: datetime, lifetime: timedelta
    ) -> TokenFamily:
        """A new family (random id) created at ``now`` (aware) and ending ``lifetime``
        later, rounded down to a whole second as the refresh token carries it."""
        return cls(
            family_id=new_family_id(),
            user_id=user_id,
            roles=roles,
            created_at=now,
            expires_at=(now + lifetime).replace(microsecond=0),
        )

    def expired(self, now: datetime) -> bool:
        """Whether the session has ended at ``now`` (aware): ``now >= expires_at``."""
        return now >= self.expires_at


@dataclass(frozen=True)
class Rotation:
    """The token store's answer to a refresh: the outcome and, unless UNKNOWN, the family."""

    outcome: RefreshOutcome
    family: TokenFamily | None = None


@dataclass(frozen=True)
class TokenPair:
    """What a client receives: a signed access JWT and an opaque refresh token.

    ``expires_in`` is the access token's lifetime in seconds (RFC 6749 §5.1).
    """

    access_token: str
    expires_in: int
    refresh_token: str


@dataclass(frozen=True)
class AccessClaims:
    """The registered claims (RFC 7519 §4.1) plus ``roles`` of one access token.

    ``issued_at`` and ``expires_at`` are Unix times in whole seconds; ``token_id`` is the
    ``jti``, a random uuid.
    """

    issuer: str
    audience: str
    subject: str
    roles: tuple[str, ...]
    issued_at: int
    expires_at: int
    token_id: str

    @classmethod
    def new(
        cls,
        *,
        issuer: str,
        audience: str,
        subject: str,
        roles: tuple[str, ...],
        now: datetime,
        ttl_seconds: int,
    ) -> AccessClaims:
        """Claims for a token issued at ``now`` (aware) living ``ttl_seconds``; ``iat`` and
        ``exp`` are whole Unix seconds (RFC 7519 §2 NumericDate)."""
        issued = int(now.timestamp())
        return cls(
            issuer=issuer,
            audience=audience,
            subject=subject,
            roles=tuple(r.lower() for r in roles),
            issued_at=issued,
            expires_at=issued + ttl_seconds,
            token_id=str(uuid.uuid4()),
        )

    def as_jwt_claims(self) -> dict[str, Any]:
        """The JSON claims set: ``iss``, ``aud``, ``sub``, ``roles``, ``iat``, ``exp``, ``jti``."""
        return {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": self.subject,
            "roles": list(self.roles),
            "iat": self.issued_at,
            "exp": self.expires_at,
            "jti": self.token_id,
        }


def new_refresh_token(expires_at: datetime | None = None) -> str:
    """A fresh opaque refresh token: 256 random bits, base64url (43 characters).

    With ``expires_at`` (aware) the family's absolute expiry follows as ``.<Unix
    seconds>`` (54 characters in all), so a token presented after its family's records
    have expired can still be told apart from one never issued (``refresh_token_expiry``).
    The suffix is part of the token: it is hashed with the rest, so altering it makes an
    unknown token, never a longer session.
    """
    secret = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return secret if expires_at is None else f"{secret}.{int(expires_at.timestamp())}"


def refresh_token_expiry(token: str) -> datetime | None:
    """The absolute expiry ``new_refresh_token`` put in ``token`` (aware UTC), or ``None``.

    ``None`` for a token without one (issued before families had an absolute lifetime)
    or whose suffix is not 1-12 decimal digits.  The value is only as good as the token:
    the token store's record is what decides whether a family is live.
    """
    _, dot, suffix = token.rpartition(".")
    if not dot or not suffix.isascii() or not suffix.isdigit() or len(suffix) > 12:
        return None
    return datetime.fromtimestamp(int(suffix), UTC)


def hash_refresh_token(token: str) -> str:
    """The SHA-256 of ``token`` as 64 hex digits: the only form in which it is stored.

    A fast hash suffices because the token has 256 bits of entropy (no brute force).
    """
    return hashlib.sha256(token.encode()).hexdigest()


def new_family_id() -> str:
    """A random uuid naming a new token family."""
    return str(uuid.uuid4())
