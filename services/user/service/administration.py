"""Use cases of the platform's admins on accounts: roles, disabling and enabling."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from uuid import UUID

from pkg.clock import Clock, utcnow
from services.user.domain import (
    Caller,
    EtagMismatch,
    NotAllowed,
    Role,
    SelfLockout,
    User,
    UserNotFound,
)
from services.user.service.ports import UserUnitOfWork


class Administration:
    """Admins' changes to accounts, each in one unit of work with the event it records
    (``UserRolesChanged``, ``UserDisabled``, ``UserEnabled``), which auth consumes to
    revoke the user's refresh-token families.

    ``units`` makes a fresh unit of work per change; ``clock`` stamps the changes.  Every
    method takes the ``Caller`` (an admin: the contract's access rule already demands the
    role, checked here again), the user's id and the ``etag`` the admin read (AIP-154:
    when given, it must be current).  A change to what the user already is changes
    nothing and records nothing (the etag stays).
    """

    def __init__(self, units: Callable[[], UserUnitOfWork], *, clock: Clock = utcnow) -> None:
        self._units = units
        self._clock = clock

    async def set_roles(
        self, caller: Caller, user_id: UUID, roles: Collection[Role], *, etag: str | None
    ) -> User:
        """Give ``user_id`` exactly ``roles``.  Raises ``NotAllowed``, ``UserNotFound``,
        ``EtagMismatch``, ``InvalidField`` (``roles`` empty) and ``SelfLockout`` when an
        admin would take the admin role from themself."""
        wanted = frozenset(roles)
        if caller.user_id == user_id and Role.ADMIN not in wanted:
            raise SelfLockout("take the admin role from themself")
        return await self._change(
            caller, user_id, etag, lambda user, now: user.with_roles(wanted, now)
        )

    async def disable(self, caller: Caller, user_id: UUID, *, etag: str | None) -> User:
        """Disable ``user_id``'s account.  Raises ``NotAllowed``, ``UserNotFound``,
        ``EtagMismatch`` and ``SelfLockout`` for the caller's own account."""
        if caller.user_id == user_id:
            raise SelfLockout("disable their own account")
        return await self._change(caller, user_id, etag, User.disable)

    async def enable(self, caller: Caller, user_id: UUID, *, etag: str | None) -> User:
        """Enable ``user_id``'s disabled account.  Raises ``NotAllowed``, ``UserNotFound``
        and ``EtagMismatch``."""
        return await self._change(caller, user_id, etag, User.enable)

    async def _change(
        self,
        caller: Caller,
        user_id: UUID,
        etag: str | None,
        change: Callable[[User, datetime], User],
    ) -> User:
        if not caller.is_admin:
            raise NotAllowed("only admins may change accounts")
        async with self._units() as uow:
            current = await uow.repositories.users.get_for_update(user_id)
            if current is None:
                raise UserNotFound(user_id)
            if etag and etag != current.etag:
                raise EtagMismatch(current.etag)
            changed = change(current, self._clock())
            if changed is current:
                return current
            await uow.repositories.users.save(changed)
            await uow.commit()
        return changed
