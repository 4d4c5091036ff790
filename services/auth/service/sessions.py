"""The auth use cases: register, login, refresh, logout, logout-all, JWKS.

Each takes plain values and returns domain objects; ``entrypoints/grpc/servicers.py``
maps protobuf to and from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pkg.clock import Clock, utcnow
from pkg.errors import InvalidArgument
from pkg.idempotency import REUSED_REASON
from pkg.obs import get_logger
from services.auth.domain import (
    Account,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginThrottlePolicy,
    NewAccount,
    RefreshOutcome,
    RefreshTokenReused,
    SessionExpired,
    ThrottleKey,
    TokenFamily,
    TokenPair,
    TooManyAttempts,
    account_key,
    hash_refresh_token,
    new_refresh_token,
    refresh_token_expiry,
)
from services.auth.service.access_tokens import AccessTokens
from services.auth.service.ports import AttemptThrottle, RequestLog, TokenStore, UserDirectory

_log = get_logger("agora.auth.sessions")


class Sessions:
    """Log users in and out, rotating refresh tokens with reuse detection.

    Refresh-token rotation and family revocation follow RFC 6819 §4.14.2 and the OAuth
    2.1 draft (draft-ietf-oauth-v2-1) §6.1; login throttling follows the OWASP
    Authentication Cheat Sheet, and cover Register replays too.  A token family ends
    ``family_lifetime_seconds`` after it was opened, however often it is refreshed.
    ``clock`` is a ``pkg.clock.Clock`` (aware ``datetime``).
    """

    def __init__(
        self,
        *,
        users: UserDirectory,
        tokens: TokenStore,
        access: AccessTokens,
        throttle: AttemptThrottle,
        throttle_policy: LoginThrottlePolicy,
        requests: RequestLog,
        family_lifetime_seconds: int = 30 * 24 * 3600,
        clock: Clock = utcnow,
    ) -> None:
        self._users = users
        self._tokens = tokens
        self._access = access
        self._throttle = throttle
        self._policy = throttle_policy
        self._requests = requests
        self._lifetime = timedelta(seconds=family_lifetime_seconds)
        self._clock = clock

    async def register(
        self, account: NewAccount, *, client_address: str
    ) -> tuple[Account, TokenPair]:
        """Create the user through the user service, then open a session for them.

        A ``request_id`` used before (``RequestLog``) makes this a replay, which the user
        service answers by checking the password: a replay is refused with
        ``TooManyAttempts`` while the account or ``client_address`` is over the login
        throttle's limit, before the user service is called, and a replay it refuses
        (``IDEMPOTENCY_KEY_REUSED``) counts as a failed login against both.  A first use of
        a ``request_id`` is never throttled.  Errors of the user service
        (``AlreadyExists``, ``InvalidArgument`` ...) propagate unchanged, before any token
        exists: a replay opens a session only when the user service accepted it as the same
        registration with the same password.
        """
        subject = account_key(account.email)
        keys = self._policy.keys(subject, client_address)
        replay = not await self._requests.first_use(account.request_id)
        if replay:
            await self._refuse_if_blocked(keys, "register replay throttled")
        try:
            created = await self._users.create_user(account)
        except InvalidArgument as exc:
            if exc.reason == REUSED_REASON:
                await self._throttle.record_failure(keys)
            raise
        if replay:
            await self._throttle.reset(ThrottleKey(self._policy.account, subject))
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
        await self._refuse_if_blocked(keys, "login throttled")
        try:
            account = await self._users.verify_credentials(email, password)
        except InvalidCredentials:
            await self._throttle.record_failure(keys)
            raise
        await self._throttle.reset(ThrottleKey(self._policy.account, subject))
        return await self._open_family(account)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate ``refresh_token``: a new pair in the same family, the old token spent.

        Raises ``SessionExpired`` when the family is past its absolute expiry (told by the
        token's own expiry even after the store has forgotten the family),
        ``RefreshTokenReused`` when the token had been rotated already (its family is
        revoked by this call, so even the newest token of the family stops working),
        ``InvalidRefreshToken`` when it is unknown, idle-expired or revoked.
        """
        now = self._clock()
        expires_at = refresh_token_expiry(refresh_token)
        if expires_at is not None and now >= expires_at:
            raise SessionExpired()
        successor = new_refresh_token(expires_at)
        rotation = await self._tokens.rotate(
            hash_refresh_token(refresh_token), hash_refresh_token(successor), now=now
        )
        if rotation.outcome is RefreshOutcome.EXPIRED:
            raise SessionExpired()
        if rotation.outcome is RefreshOutcome.REUSED:
            family = rotation.family
            _log.warning(
                "refresh token reused; family revoked",
                extra={
                    "family": family.family_id if family else "",
                    "user": family.user_id if family else "",
                },
            )
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

    async def _refuse_if_blocked(self, keys: Sequence[ThrottleKey], event: str) -> None:
        blocked = await self._throttle.blocked(keys)
        if blocked is not None:
            key, retry_after = blocked
            _log.warning(event, extra={"scope": key.rule.scope})
            raise TooManyAttempts(retry_after=retry_after, scope=key.rule.scope)

    async def _open_family(self, account: Account) -> TokenPair:
        family = TokenFamily.open(
            user_id=account.user_id, roles=account.roles, now=self._clock(), lifetime=self._lifetime
        )
        refresh_token = new_refresh_token(family.expires_at)
        await self._tokens.create_family(family, hash_refresh_token(refresh_token))
        return await self._pair(family, refresh_token)

    async def _pair(self, family: TokenFamily, refresh_token: str) -> TokenPair:
        access = await self._access.issue(family.user_id, family.roles)
        return TokenPair(
            access_token=access, expires_in=self._access.ttl_seconds, refresh_token=refresh_token
        )
