"""The user service's domain events: past-tense facts an aggregate records as it changes.

Plain frozen dataclasses (no protobuf): the adapter-side mapper
(``services.user.adapters.events``) turns each into its message of
``agora.user.v1`` (``user_events.proto``) when the unit of work commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from services.user.domain.model import Role


@dataclass(frozen=True)
class UserCreated:
    """A user was created with ``roles`` and ``display_name``."""

    user_id: UUID
    roles: frozenset[Role]
    display_name: str


@dataclass(frozen=True)
class UserRolesChanged:
    """An admin replaced the user's ``previous_roles`` with ``roles``."""

    user_id: UUID
    roles: frozenset[Role]
    previous_roles: frozenset[Role]


@dataclass(frozen=True)
class UserDisabled:
    """An admin disabled the user's account."""

    user_id: UUID


@dataclass(frozen=True)
class UserEnabled:
    """An admin enabled the user's disabled account again."""

    user_id: UUID


@dataclass(frozen=True)
class UserProfileUpdated:
    """The user's public profile changed; ``display_name`` is the new one."""

    user_id: UUID
    display_name: str


UserEvent = UserCreated | UserRolesChanged | UserDisabled | UserEnabled | UserProfileUpdated
"""Every event a ``User`` records."""
