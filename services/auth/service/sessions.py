"""The auth use cases: register, login, refresh, logout, logout-all, JWKS.

Each takes plain values and returns domain objects; ``entrypoints/grpc/servicers.py``
maps protobuf to and from them.
"""

from __future__ import annotations

from typing import Any

from pkg.clock import Clock, utcnow
from pkg.obs import get_logger
from services.auth.domain import (
    Account,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginThrottlePolicy,
    NewAccount,
    RefreshOutcome,
    RefreshTokenReused,
    ThrottleKey,
    TokenFamily,
    TokenPair,
    TooManyAttempts,
    account_key,
    hash_refresh_token,
    new_family_id,
    new_refresh_token,
)
from services.auth.service.access_tokens import AccessTokens
from services.auth.service.ports import AttemptThrottle, TokenStore, UserDirectory

_log = get_logger("agora.auth.sessions")


class Sessions:
    """Log users in and out, rotating refresh tokens with reuse detection.

    Refresh-token rotation and family revocation follow RFC 6819 §4.14.2 and the OAuth
    2.1 draft (draft-ietf-oauth-v2-1) §6.1; login throttling follows the OWASP
    Authentication Cheat Sheet.  ``clock`` is a ``pkg.clock.Clock``
    (aware ``datetime``).
    """

    def __init__(self, *, users: UserDirectory, tokens: TokenStore, access: AccessTokens,
                 throttle: AttemptThrottle, throttle_policy: LoginThrottlePolicy,
                 clock: Clock = utcnow) -> None:
        self._users = users
        self._tokens = tokens
        self._access = access
        self._throttle = throttle
        self._policy = throttle_policy
        self._clock = clock

    async def register(self, account: NewAccount) -> tuple[Account, TokenPair]:
        """Create the user through the user service, then open a session for them.

        Errors of the user service (``AlreadyExists``, ``InvalidArgument`` ...) propagate
        unchanged, before any token exists: a replayed ``request_id`` opens a session only
        when the user service accepted it as the same registration with the same password.
        """
        created = await self._users.create_user(account)
        return created, await self._open_family(created)

    async def login(self, email: str, password: str, *, client_address: str) -> TokenPair:
        """Check the credentials and open a new session (token family).

        Raises ``TooManyAttempts`` (with ``retry_after`` seconds) while the account or the
        client address is over its failure limit, without checking the password;
        ``InvalidCredentials`` for a wrong email or password, which counts one failure
        against both.  Success clears the account's failures.
        """
        subject = account_key(email)
        keys = self._policy.keys(subject, client_address)
        blocked = await self._throttle.blocked(keys)
        if blocked is not None:
            key, retry_after = blocked
            _log.warning("login throttled", extra={"scope": key.rule.scope})
            raise TooManyAttempts(retry_after=retry_after, scope=key.rule.scope)
        try:
            account = await self._users.verify_credentials(email, password)
        except InvalidCredentials:
            await self._throttle.record_failure(keys)
            raise
        await self._throttle.reset(ThrottleKey(self._policy.account, subject))
        return await self._open_family(account)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate ``refresh_token``: a new pair in the same family, the old token spent.

        Raises ``RefreshTokenReused`` when the token had been rotated already (its family
        is revoked by this call, so even the newest token of the family stops working),
        ``InvalidRefreshToken`` when it is unknown, expired or revoked.
        """
        successor = new_refresh_token()
        rotation = await self._tokens.rotate(hash_refresh_token(refresh_token),
                                             hash_refresh_token(successor))
        if rotation.outcome is RefreshOutcome.REUSED:
            family = rotation.family
            _log.warning("refresh token reused; family revoked", extra={
                "family": family.family_id if family else "",
                "user": family.user_id if family else ""})
            raise RefreshTokenReused()
        if rotation.outcome is RefreshOutcome.REVOKED:
            raise InvalidRefreshToken("the refresh token's session has been revoked")
        if rotation.outcome is not RefreshOutcome.ROTATED or rotation.family is None:
            raise InvalidRefreshToken()
        return await self._pair(rotation.family, successor)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the family of ``refresh_token``; an unknown token is not an error."""
        await self._tokens.revoke_family_of(hash_refresh_token(refresh_token))

    async def logout_all(self, user_id: str) -> int:
        """Revoke every family of ``user_id`` (the caller); return how many were live."""
        return await self._tokens.revoke_user(user_id)

    async def jwks(self) -> dict[str, Any]:
        """The JWK Set that verifies access tokens (see ``AccessTokens.jwks``)."""
        return await self._access.jwks()

    async def _open_family(self, account: Account) -> TokenPair:
        family = TokenFamily(family_id=new_family_id(), user_id=account.user_id,
                             roles=account.roles, created_at=self._clock())
        refresh_token = new_refresh_token()
        await self._tokens.create_family(family, hash_refresh_token(refresh_token))
        return await self._pair(family, refresh_token)

    async def _pair(self, family: TokenFamily, refresh_token: str) -> TokenPair:
        access = await self._access.issue(family.user_id, family.roles)
        return TokenPair(access_token=access, expires_in=self._access.ttl_seconds,
                         refresh_token=refresh_token)
