"""Who is calling: the verified access token's principal, and the token verifier port.

grpc-free, so that use cases may import it (``pkg.server`` re-exports it for entrypoints).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import jwt

from agora.errors.v1.reasons import SharedReason
from pkg.errors import Unauthenticated, Unavailable
from pkg.obs import get_logger

_log = get_logger("agora.jwks")


@dataclass(frozen=True)
class Principal:
    """The subject of a verified access token: user id, roles and token id (``jti``)."""

    subject: str
    roles: frozenset[str]
    token_id: str
    expires_at: float


_PRINCIPAL: ContextVar[Principal | None] = ContextVar("agora_principal", default=None)
_ACCESS_TOKEN: ContextVar[str] = ContextVar("agora_access_token", default="")


def current_principal() -> Principal | None:
    """The principal of the running RPC, or ``None`` when it carried no valid token."""
    return _PRINCIPAL.get()


def require_principal() -> Principal:
    """The running RPC's principal; raises ``Unauthenticated`` when there is none."""
    principal = _PRINCIPAL.get()
    if principal is None:
        raise Unauthenticated("an access token is required", reason=SharedReason.TOKEN_MISSING)
    return principal


def current_access_token() -> str:
    """The running RPC's bearer access token (the JWT text) that ``principal`` was verified
    from, or ``""`` when it carried no verified token.

    For client adapters that call another service on the caller's behalf
    (``pkg.mtls.forwarded_authorization``); never log it.
    """
    return _ACCESS_TOKEN.get()


def bind_principal(principal: Principal | None, access_token: str = "") -> object:
    """Set the running RPC's principal and the ``access_token`` it was verified from;
    returns the token for ``unbind_principal``."""
    return _PRINCIPAL.set(principal), _ACCESS_TOKEN.set(access_token if principal else "")


def unbind_principal(token: object) -> None:
    """Undo ``bind_principal``."""
    principal, access_token = cast("tuple[Token[Principal | None], Token[str]]", token)
    _ACCESS_TOKEN.reset(access_token)
    _PRINCIPAL.reset(principal)


class TokenVerifier(Protocol):
    """Port: turn a bearer access token into a ``Principal``.

    Implementations raise ``Unauthenticated`` (reason TOKEN_INVALID / TOKEN_EXPIRED) for a
    token that is malformed, tampered with, expired, or for another issuer or audience.
    """

    async def verify(self, token: str) -> Principal: ...


def decode_access_token(token: str, key: Any, *, issuer: str, audience: str) -> Principal:
    """Verify an ES256 access JWT (RFC 7519) with ``key``; return its principal.

    Requires ``sub``, ``exp``, ``iat``, ``jti``, ``iss`` and ``aud``; allows 30 s of clock
    skew.  Raises ``Unauthenticated`` with reason TOKEN_EXPIRED or TOKEN_INVALID.
    """
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["ES256"],
            audience=audience,
            issuer=issuer,
            leeway=30,
            options={"require": ["sub", "exp", "iat", "jti", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated(
            "the access token has expired", reason=SharedReason.TOKEN_EXPIRED
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(
            f"the access token is invalid: {exc}", reason=SharedReason.TOKEN_INVALID
        ) from exc
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated(
            "the access token's roles claim is malformed", reason=SharedReason.TOKEN_INVALID
        )
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(roles),
        token_id=str(claims["jti"]),
        expires_at=float(claims["exp"]),
    )


def _key_set(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(dict(document)).keys if k.key_id}


class JwksTokenVerifier:
    """Verifies access tokens against a JSON Web Key Set (RFC 7517) fetched on demand.

    ``fetch_jwks`` returns the JWKS document as a dict (the auth service's GetJwks).  Keys
    are cached for ``max_age`` seconds; a token whose ``kid`` is unknown triggers a refetch
    at most every ``min_refetch`` seconds, so rotated keys are picked up quickly and a
    flood of forged ``kid`` values cannot hammer the auth service.

    While auth is unreachable the last good keys stay in use (a failed fetch is retried
    after ``min_refetch`` seconds).  With ``cache_file`` they also survive a restart: the
    file is read at construction (a missing or unreadable one is ignored) and rewritten
    atomically after each successful fetch.  With no keys at all, ``verify`` raises
    ``Unavailable`` (reason ``JWKS_UNAVAILABLE``): the caller's token may be fine.
    """

    def __init__(
        self,
        fetch_jwks: Callable[[], Awaitable[Mapping[str, Any]]],
        *,
        issuer: str,
        audience: str,
        max_age: float = 300.0,
        min_refetch: float = 10.0,
        cache_file: Path | None = None,
    ) -> None:
        self._fetch = fetch_jwks
        self._issuer = issuer
        self._audience = audience
        self._max_age = max_age
        self._min_refetch = min_refetch
        self._cache_file = cache_file
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        if cache_file is not None:
            try:
                self._keys = _key_set(json.loads(cache_file.read_bytes()))
            except FileNotFoundError:
                pass
            except (OSError, ValueError, jwt.PyJWKSetError) as exc:
                _log.warning(
                    "JWKS cache file unusable",
                    extra={"path": str(cache_file), "error": type(exc).__name__},
                )

    @property
    def has_keys(self) -> bool:
        """Whether any verification key is held (fetched, or read from ``cache_file``)."""
        return bool(self._keys)

    async def probe(self) -> bool:
        """A health probe (``pkg.server.Probe``): fetch the keys when due; ``True`` while
        keys are held."""
        try:
            await self._refresh(force=False)
        except Unavailable:
            return False
        return self.has_keys

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if (force and age < self._min_refetch) or (not force and age < self._max_age):
                return
            try:
                document = await self._fetch()
                keys = _key_set(document)
            except Exception as exc:
                if self._keys:
                    self._fetched_at = time.monotonic() - self._max_age + self._min_refetch
                    return
                raise Unavailable(
                    "the token keys are unavailable; try again",
                    reason=SharedReason.JWKS_UNAVAILABLE,
                ) from exc
            self._keys = keys
            self._fetched_at = time.monotonic()
            if self._cache_file is not None:
                await asyncio.to_thread(self._save, document)

    def _save(self, document: Mapping[str, Any]) -> None:
        from pkg.pki import write_atomic

        assert self._cache_file is not None
        try:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self._cache_file, json.dumps(document).encode(), mode=0o644)
        except OSError as exc:
            _log.warning(
                "JWKS cache file not written",
                extra={"path": str(self._cache_file), "error": type(exc).__name__},
            )

    async def verify(self, token: str) -> Principal:
        """See ``TokenVerifier.verify``."""
        try:
            kid = str(jwt.get_unverified_header(token).get("kid") or "")
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(
                "the access token is malformed", reason=SharedReason.TOKEN_INVALID
            ) from exc
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated(
                "the access token's signing key is unknown", reason=SharedReason.TOKEN_INVALID
            )
        return decode_access_token(token, key, issuer=self._issuer, audience=self._audience)


class CachingTokenVerifier:
    """Remembers tokens ``inner`` verified, until they expire (a hot-path saving).

    A client sends the same access token with every request for up to its lifetime, and
    an ES256 verification costs far more than a dict lookup.  Only successes are cached,
    keyed by the exact token text, and each entry is dropped once its ``exp`` passes, so
    an expired token is verified (and refused) again.  A key retired from the JWKS stops
    new tokens at once but lets already-cached ones live out their remaining lifetime
    (at most one access-token TTL).  At most ``max_entries`` tokens are kept; when full,
    the oldest entry is evicted.
    """

    def __init__(
        self,
        inner: TokenVerifier,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self._max = max_entries
        self._clock = clock
        self._cache: dict[str, Principal] = {}

    async def verify(self, token: str) -> Principal:
        """See ``TokenVerifier.verify``."""
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at > self._clock():
                return cached
            del self._cache[token]
        principal = await self._inner.verify(token)
        if len(self._cache) >= self._max:
            del self._cache[next(iter(self._cache))]
        self._cache[token] = principal
        return principal
