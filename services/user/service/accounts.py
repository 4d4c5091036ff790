"""Use cases on credentials, called by the auth service: create a user, check a password."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from uuid import UUID, uuid4

from services.user.domain import (
    Email,
    EmailTaken,
    InvalidCredentials,
    InvalidField,
    Role,
    User,
    check_password,
    parse_display_name,
)
from services.user.service.ports import Clock, PasswordHasher, UserRepository


async def create_user(users: UserRepository, hasher: PasswordHasher, *, email: str,
                      password: str, display_name: str, roles: Iterable[Role] = (),
                      request_id: UUID | None = None, now: Clock,
                      allow_admin: bool = False) -> User:
    """Create a user with a password credential; idempotent per ``request_id`` (AIP-155).

    A ``request_id`` seen before returns the user it created, whatever else the request
    says.  ``roles`` defaults to customer; admin only with ``allow_admin`` (the operator's
    CLI), never through the RPC.  Raises ``InvalidField`` (``email``, ``password``,
    ``display_name``, ``roles``) and ``EmailTaken`` (email in use, regardless of case).
    """
    if request_id is not None:
        existing = await users.get_by_request_id(request_id)
        if existing is not None:
            return existing
    address = Email.parse(email)
    check_password(password)
    name = parse_display_name(display_name)
    granted = frozenset(roles) or frozenset({Role.CUSTOMER})
    if Role.ADMIN in granted and not allow_admin:
        raise InvalidField("roles", "admin cannot be requested", reason="ROLE_NOT_GRANTABLE")
    if await users.get_by_email(address) is not None:
        raise EmailTaken()
    instant = now()
    user = User(id=uuid4(), email=address, display_name=name, roles=granted,
                password_hash=await hasher.hash(password), create_time=instant,
                update_time=instant)
    return await users.add(user, request_id=request_id)


async def verify_credentials(users: UserRepository, hasher: PasswordHasher, *, email: str,
                             password: str) -> User:
    """The user whose email and password these are; ``InvalidCredentials`` otherwise.

    An unknown or malformed email costs one dummy hash verification, so the answer's
    timing does not reveal whether an account exists (OWASP Authentication Cheat Sheet,
    "Authentication Responses").  A hash made with outdated parameters is replaced.
    """
    try:
        user = await users.get_by_email(Email.parse(email))
    except InvalidField:
        user = None
    if user is None:
        await hasher.verify_dummy(password)
        raise InvalidCredentials()
    if not await hasher.verify(user.password_hash, password):
        raise InvalidCredentials()
    if hasher.needs_rehash(user.password_hash):
        fresh = await hasher.hash(password)
        await users.set_password_hash(user.id, fresh)
        user = replace(user, password_hash=fresh)
    return user
