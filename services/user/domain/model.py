"""Users, their email addresses and roles, and who may see or change what.

Pure Python: no gRPC, no SQLAlchemy.  Instants are timezone-aware UTC ``datetime``s.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from agora.user.v1.reasons import UserReason
from pkg.errors import InvalidField
from services.user.domain.events import (
    UserCreated,
    UserDisabled,
    UserEnabled,
    UserProfileUpdated,
    UserRolesChanged,
)

DISPLAY_NAME_MAX = 100
PASSWORD_MIN, PASSWORD_MAX = 12, 128

# WHATWG HTML "valid e-mail address" (the rule protovalidate's `email` applies), with the
# length limits of RFC 5321 4.5.3.1: 64 octets of local part, 254 in all.
_EMAIL = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)
_EMAIL_MAX = 254


class Role(enum.Enum):
    """A user's role; the value is the name used in access tokens' ``roles`` claim."""

    CUSTOMER = "customer"
    PROVIDER = "provider"
    ADMIN = "admin"


_ROLES = {role.value: role for role in Role}


class AccountState(enum.Enum):
    """Whether an account may be used; the value is what the database stores."""

    ACTIVE = "active"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Email:
    """An email address: surrounding whitespace trimmed, compared regardless of case.

    ``value`` keeps the case the user typed; ``normalized`` (lower case) is what equality,
    hashing and the database's uniqueness use.
    """

    value: str

    @classmethod
    def parse(cls, text: str) -> Email:
        """Parse ``text``; raise ``InvalidField`` (field ``email``) when it is no address."""
        trimmed = text.strip()
        if len(trimmed) > _EMAIL_MAX or _EMAIL.fullmatch(trimmed) is None:
            raise InvalidField(
                "email", "must be a valid email address", reason=UserReason.EMAIL_INVALID
            )
        return cls(trimmed)

    @property
    def normalized(self) -> str:
        """The address in lower case (ASCII only, so the same as PostgreSQL's ``lower``)."""
        return self.value.lower()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Email) and self.normalized == other.normalized

    def __hash__(self) -> int:
        return hash(self.normalized)

    def __str__(self) -> str:
        return self.value


def parse_display_name(text: str) -> str:
    """``text`` without surrounding whitespace; ``InvalidField`` (``display_name``) when
    that is empty or longer than 100 characters."""
    name = text.strip()
    if not name or len(name) > DISPLAY_NAME_MAX:
        raise InvalidField(
            "display_name",
            f"must be 1 to {DISPLAY_NAME_MAX} characters",
            reason=UserReason.DISPLAY_NAME_INVALID,
        )
    return name


def check_password(password: str) -> None:
    """Raise ``InvalidField`` (``password``) unless it has 12 to 128 characters."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidField(
            "password",
            f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters",
            reason=UserReason.PASSWORD_LENGTH,
        )


@dataclass(frozen=True)
class User:
    """A marketplace user (the aggregate).  ``version`` starts at 1 and grows with every
    change of profile, roles or state.

    ``password_hash`` is an encoded hash (PHC string format), never the password.  Every
    change returns a new ``User`` carrying the past-tense event it recorded in ``events``
    (``services.user.domain.events``), which the unit of work writes to the outbox when it
    commits; ``events`` takes no part in equality.
    """

    id: UUID
    email: Email
    display_name: str
    roles: frozenset[Role]
    password_hash: str
    create_time: datetime
    update_time: datetime
    version: int = 1
    state: AccountState = AccountState.ACTIVE
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def register(
        cls,
        *,
        id: UUID,
        email: Email,
        display_name: str,
        roles: frozenset[Role],
        password_hash: str,
        now: datetime,
    ) -> User:
        """A new active user created ``now``, recording ``UserCreated``."""
        return cls(
            id=id,
            email=email,
            display_name=display_name,
            roles=roles,
            password_hash=password_hash,
            create_time=now,
            update_time=now,
            events=[UserCreated(id, roles, display_name)],
        )

    @property
    def etag(self) -> str:
        """Weak entity tag of the current state (RFC 9110 8.8.3, AIP-154): ``W/"<version>"``."""
        return f'W/"{self.version}"'

    @property
    def disabled(self) -> bool:
        """Whether an admin disabled the account."""
        return self.state is AccountState.DISABLED

    def _changed(self, now: datetime, event: object, **changes: Any) -> User:
        return replace(
            self, **changes, update_time=now, version=self.version + 1, events=[*self.events, event]
        )

    def renamed(self, display_name: str, now: datetime) -> User:
        """A copy with a new display name, ``update_time`` ``now`` and the next version,
        recording ``UserProfileUpdated``; ``InvalidField`` for a bad name."""
        name = parse_display_name(display_name)
        return self._changed(now, UserProfileUpdated(self.id, name), display_name=name)

    def with_roles(self, roles: frozenset[Role], now: datetime) -> User:
        """A copy holding exactly ``roles`` (recording ``UserRolesChanged``), or ``self``
        when they are the roles it has.  ``InvalidField`` (``roles``) for an empty set."""
        if not roles:
            raise InvalidField(
                "roles", "must name at least one role", reason=UserReason.ROLES_INVALID
            )
        if roles == self.roles:
            return self
        return self._changed(now, UserRolesChanged(self.id, roles, self.roles), roles=roles)

    def disable(self, now: datetime) -> User:
        """A disabled copy (recording ``UserDisabled``), or ``self`` when disabled already."""
        if self.disabled:
            return self
        return self._changed(now, UserDisabled(self.id), state=AccountState.DISABLED)

    def enable(self, now: datetime) -> User:
        """An active copy (recording ``UserEnabled``), or ``self`` when active already."""
        if not self.disabled:
            return self
        return self._changed(now, UserEnabled(self.id), state=AccountState.ACTIVE)


@dataclass(frozen=True)
class Caller:
    """The user on whose behalf a request runs (from a verified access token)."""

    user_id: UUID
    roles: frozenset[Role]

    @classmethod
    def of(cls, user_id: UUID, role_names: Iterable[str]) -> Caller:
        """A caller with the known roles among ``role_names``; unknown names are ignored."""
        return cls(user_id, frozenset(_ROLES[n] for n in role_names if n in _ROLES))

    @property
    def is_admin(self) -> bool:
        """Whether the caller administers the platform."""
        return Role.ADMIN in self.roles

    def may_see_private(self, user: User) -> bool:
        """Whether the caller may see ``user``'s email: the user themself or an admin."""
        return self.is_admin or self.user_id == user.id

    def may_edit(self, user_id: UUID) -> bool:
        """Whether the caller may change the profile of ``user_id``: themself or an admin."""
        return self.is_admin or self.user_id == user_id
