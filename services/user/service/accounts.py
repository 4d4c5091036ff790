"""Use cases on credentials, called by the auth service: create a user, check a password."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

from agora.user.v1.reasons import UserReason
from pkg.clock import Clock, utcnow
from pkg.idempotency import (
    DEFAULT_TTL,
    Decision,
    IdempotencyKey,
    IdempotencyKeyReused,
    decide,
    fingerprint,
)
from services.user.domain import (
    AccountDisabled,
    Email,
    EmailTaken,
    InvalidCredentials,
    InvalidField,
    Role,
    User,
    check_password,
    parse_display_name,
)
from services.user.service.ports import PasswordHasher, UserQueries, UserUnitOfWork


class Accounts:
    """Use cases on credentials, called by the auth service (and the operator's CLI).

    ``users`` reads outside a transaction, ``units`` makes a unit of work per write (the
    new user and its ``UserCreated`` commit together), ``hasher`` hashes passwords;
    ``clock`` (``pkg.clock.Clock``) stamps new users and idempotency keys, which are kept
    ``key_ttl``.
    """

    def __init__(
        self,
        users: UserQueries,
        units: Callable[[], UserUnitOfWork],
        hasher: PasswordHasher,
        *,
        clock: Clock = utcnow,
        key_ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._users = users
        self._units = units
        self._hasher = hasher
        self._clock = clock
        self._key_ttl = key_ttl

    async def create_user(
        self,
        *,
        email: str,
        password: str,
        display_name: str,
        roles: Iterable[Role] = (),
        request_id: UUID | None = None,
        scope: str = "",
        allow_admin: bool = False,
    ) -> User:
        """Create a user with a password credential; idempotent per ``(scope, request_id)``.

        ``roles`` defaults to customer; admin only with ``allow_admin`` (the operator's CLI),
        never through the RPC.  With a ``request_id`` (AIP-155; ``pkg.idempotency``), the
        request's fingerprint (normalised email, display name, sorted roles) is kept with the
        key for ``key_ttl``.  The same key and fingerprint again returns the user it created,
        as that user is now, once ``password`` verifies against the user's hash; a different
        fingerprint or a wrong password raises ``IdempotencyKeyReused`` (INVALID_ARGUMENT), the
        same for both, and never returns the user.  ``scope`` is the caller the key belongs to
        (the mTLS identity, ``auth``).  Raises ``InvalidField`` (``email``, ``password``,
        ``display_name``, ``roles``) and ``EmailTaken`` (email in use, regardless of case).
        """
        address = Email.parse(email)
        check_password(password)
        name = parse_display_name(display_name)
        granted = frozenset(roles) or frozenset({Role.CUSTOMER})
        if Role.ADMIN in granted and not allow_admin:
            raise InvalidField(
                "roles", "admin cannot be requested", reason=UserReason.ROLE_NOT_GRANTABLE
            )
        instant = self._clock()
        user_id = uuid4()
        key = None
        if request_id is not None:
            key = IdempotencyKey.new(
                scope=scope,
                request_id=str(request_id),
                resource_id=str(user_id),
                now=instant,
                ttl=self._key_ttl,
                fingerprint=fingerprint(
                    {
                        "email": address.normalized,
                        "display_name": name,
                        "roles": sorted(r.value for r in granted),
                    }
                ),
            )
            held = await self._users.get_idempotency_key(scope, key.request_id)
            if decide(held, key.fingerprint, instant) in (Decision.REPLAY, Decision.REUSED):
                return await _replay(self._users, self._hasher, held, key, password)
        if await self._users.get_by_email(address) is not None:
            held = await self._users.get_idempotency_key(scope, key.request_id) if key else None
            if key is None or held is None or held.expired(instant):
                raise EmailTaken()
            return await _replay(self._users, self._hasher, held, key, password)
        user = User.register(
            id=user_id,
            email=address,
            display_name=name,
            roles=granted,
            password_hash=await self._hasher.hash(password),
            now=instant,
        )
        async with self._units() as uow:
            held = await uow.repositories.users.add(user, key=key)
            if held is None:
                await uow.commit()
        if key is not None and held is not None:
            return await _replay(self._users, self._hasher, held, key, password)
        return user

    async def verify_credentials(self, *, email: str, password: str) -> User:
        """The user whose email and password these are; ``InvalidCredentials`` otherwise.

        An unknown or malformed email costs one dummy hash verification, so the answer's
        timing does not reveal whether an account exists (OWASP Authentication Cheat Sheet,
        "Authentication Responses").  A hash made with outdated parameters is replaced.
        A disabled account raises ``AccountDisabled``, but only once its password verified.
        """
        try:
            user = await self._users.get_by_email(Email.parse(email))
        except InvalidField:
            user = None
        if user is None:
            await self._hasher.verify_dummy(password)
            raise InvalidCredentials()
        if not await self._hasher.verify(user.password_hash, password):
            raise InvalidCredentials()
        if user.disabled:
            raise AccountDisabled()
        if self._hasher.needs_rehash(user.password_hash):
            fresh = await self._hasher.hash(password)
            async with self._units() as uow:
                await uow.repositories.users.set_password_hash(user.id, fresh)
                await uow.commit()
            user = replace(user, password_hash=fresh)
        return user


async def _replay(
    users: UserQueries,
    hasher: PasswordHasher,
    held: IdempotencyKey | None,
    key: IdempotencyKey,
    password: str,
) -> User:
    """The user ``held`` created, if ``key`` is the same request and ``password`` is its
    user's; ``IdempotencyKeyReused`` otherwise, after the same hashing work either way."""
    user = None
    if held is not None and decide(held, key.fingerprint, key.create_time) is Decision.REPLAY:
        user = await users.get(UUID(held.resource_id))
    if user is None:
        await hasher.verify_dummy(password)
        raise IdempotencyKeyReused()
    if not await hasher.verify(user.password_hash, password):
        raise IdempotencyKeyReused()
    return user
