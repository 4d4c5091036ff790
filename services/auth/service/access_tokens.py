"""Access tokens: ES256 JWTs (RFC 7519, RFC 7515) signed with the newest active key.

``AccessTokens`` issues them, publishes the public keys as a JWKS (RFC 7517), and
verifies them for auth's own authenticated RPCs (it implements
``pkg.server.TokenVerifier`` with local keys, so auth never calls itself).

Publish before signing: a key is in the JWKS from the moment it exists, but signs only
once it has been published for the activation delay, longer than any verifier caches the
JWKS (the edge and services 300 s), so no verifier meets a ``kid`` it has not fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm

from agora.errors.v1.reasons import SharedReason
from pkg.clock import Clock, utcnow
from pkg.errors import Unauthenticated
from pkg.principal import Principal, decode_access_token
from services.auth.domain import AccessClaims
from services.auth.service.ports import SigningKey, SigningKeys


def public_jwk(key: SigningKey) -> dict[str, Any]:
    """The public JWK of ``key``: ``kty`` EC, ``crv`` P-256, ``x``, ``y``, ``kid``, ``use``
    ``sig``, ``alg`` ES256 (RFC 7517 §4, RFC 7518 §6.2.1).  Never the private ``d``."""
    jwk = dict(ECAlgorithm.to_jwk(key.private_key.public_key(), as_dict=True))
    jwk.update(kid=key.kid, use="sig", alg="ES256")
    return jwk


def signer_at(keys: Mapping[str, SigningKey], now: float, activation_delay: float) -> SigningKey:
    """The key that signs at ``now`` (Unix seconds): the newest one published at least
    ``activation_delay`` seconds before (``created_at + activation_delay <= now``).

    When none is that old (the very first key, or every older one was deleted by hand),
    the oldest key signs: it is the one verifiers have had longest.  Raises
    ``ValueError`` for an empty ``keys``.
    """
    if not keys:
        raise ValueError("there is no signing key")
    by_age = sorted(keys.values(), key=lambda k: k.created_at, reverse=True)
    return next((k for k in by_age if k.created_at + activation_delay <= now), by_age[-1])


class AccessTokens:
    """Issues, publishes the keys of, and verifies access tokens.

    ``issuer``/``audience`` are ``iss``/``aud`` (``AGORA_JWT_ISSUER``/``_AUDIENCE``);
    ``ttl_seconds`` is the lifetime (900 s by default); ``activation_delay_seconds`` is
    how long a key is published before it signs (``signer_at``; 0 signs with the newest
    key at once); ``clock`` is a ``pkg.clock.Clock`` (aware ``datetime``); ``iat``/``exp``
    are its Unix seconds (RFC 7519 §2 NumericDate).
    """

    def __init__(
        self,
        keys: SigningKeys,
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        activation_delay_seconds: float = 0.0,
        clock: Clock = utcnow,
    ) -> None:
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self.activation_delay_seconds = activation_delay_seconds
        self._clock = clock

    async def issue(self, subject: str, roles: tuple[str, ...]) -> str:
        """A signed token for user ``subject`` (uuid) holding ``roles``, kid in the header;
        signed by ``signer_at`` the clock's current time."""
        now = self._clock()
        key = signer_at(
            await self._keys.verification_keys(), now.timestamp(), self.activation_delay_seconds
        )
        claims = AccessClaims.new(
            issuer=self.issuer,
            audience=self.audience,
            subject=subject,
            roles=roles,
            now=now,
            ttl_seconds=self.ttl_seconds,
        )
        return jwt.encode(
            claims.as_jwt_claims(), key.private_key, algorithm="ES256", headers={"kid": key.kid}
        )

    async def jwks(self) -> dict[str, Any]:
        """The JWK Set ``{"keys": [...]}`` of every key not retired, newest first."""
        keys = await self._keys.verification_keys()
        return {"keys": [public_jwk(k) for k in keys.values()]}

    async def verify(self, token: str) -> Principal:
        """See ``pkg.server.TokenVerifier``: ``Unauthenticated`` (TOKEN_INVALID,
        TOKEN_EXPIRED) for a malformed, tampered, expired, foreign or unknown-kid token."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(
                "the access token is malformed", reason=SharedReason.TOKEN_INVALID
            ) from exc
        key = (await self._keys.verification_keys()).get(str(kid))
        if key is None:
            raise Unauthenticated(
                "the access token's signing key is unknown", reason=SharedReason.TOKEN_INVALID
            )
        return decode_access_token(
            token, key.private_key.public_key(), issuer=self.issuer, audience=self.audience
        )
