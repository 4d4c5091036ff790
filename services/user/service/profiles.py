"""Use cases on users' profiles (``Profiles``); none of them knows about gRPC."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from uuid import UUID

from pkg.clock import Clock, utcnow
from pkg.fields import update_mask_fields
from pkg.paging import PageCursor, cut_page, decode_page_token, page_size
from services.user.domain import (
    Caller,
    EtagMismatch,
    NotAllowed,
    User,
    UserNotFound,
    parse_display_name,
)
from services.user.service.ports import UserQueries, UserUnitOfWork

UPDATABLE_FIELDS = frozenset({"display_name"})


@dataclass(frozen=True)
class UserView:
    """A user as one caller may see it: ``show_email`` is False for other users' profiles."""

    user: User
    show_email: bool


@dataclass(frozen=True)
class UserPage:
    """One page of ListUsers; ``next_page_token`` is empty on the last page."""

    users: list[User]
    next_page_token: str


class Profiles:
    """Use cases on users' profiles: get one, update one's own, list all (admins).

    ``users`` reads outside a transaction; ``units`` makes a fresh unit of work for each
    change (``pkg.uow``: the change and its event commit together); ``clock``
    (``pkg.clock.Clock``) stamps updates.  Each method takes the ``Caller`` the entrypoint
    resolved from the access token.
    """

    def __init__(
        self, users: UserQueries, units: Callable[[], UserUnitOfWork], *, clock: Clock = utcnow
    ) -> None:
        self._users = users
        self._units = units
        self._clock = clock

    async def get_user(self, caller: Caller, user_id: UUID) -> UserView:
        """The user ``user_id``, with the email only for the user themself and admins.

        Raises ``UserNotFound``.
        """
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        return UserView(user, show_email=caller.may_see_private(user))

    async def update_profile(
        self,
        caller: Caller,
        user_id: UUID,
        *,
        display_name: str,
        fields: Collection[str],
        etag: str | None,
    ) -> UserView:
        """Change the named ``fields`` (AIP-134; only ``display_name`` exists) of ``user_id``.

        ``etag`` (AIP-154), when given, must be the user's current one; the user's row is
        locked while it is changed, so concurrent updates apply one after the other (the
        last one wins without an etag).  Records ``UserProfileUpdated``.  Raises
        ``InvalidField`` (``update_mask``, ``display_name``), ``NotAllowed`` unless the
        caller is that user or an admin, ``UserNotFound``, and ``EtagMismatch``.
        """
        update_mask_fields(fields, UPDATABLE_FIELDS)
        name = parse_display_name(display_name)
        if not caller.may_edit(user_id):
            raise NotAllowed("only the user themself or an admin may change a profile")
        async with self._units() as uow:
            current = await uow.repositories.users.get_for_update(user_id)
            if current is None:
                raise UserNotFound(user_id)
            if etag and etag != current.etag:
                raise EtagMismatch(current.etag)
            changed = current.renamed(name, self._clock())
            await uow.repositories.users.save(changed)
            await uow.commit()
        return UserView(changed, show_email=caller.may_see_private(changed))

    async def list_users(self, caller: Caller, *, requested_size: int, page_token: str) -> UserPage:
        """A page of users, newest first, with keyset pagination (AIP-158).

        ``requested_size`` 0 means 20, larger than 100 means 100.  Raises ``NotAllowed``
        unless the caller is an admin and ``InvalidField`` (``page_size``, ``page_token``).
        """
        if not caller.is_admin:
            raise NotAllowed("only admins may list users")
        size = page_size(requested_size)
        after = decode_page_token(page_token, listing="ListUsers") if page_token else None
        found = await self._users.list_newest(size + 1, after)
        return UserPage(*cut_page(found, size, _cursor))


def _cursor(user: User) -> PageCursor:
    return PageCursor(user.create_time, user.id)
