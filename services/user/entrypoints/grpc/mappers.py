"""Proto <-> domain for the user service: resource names, roles, users, callers, events.

Request ids, update masks, field renaming (``pkg.fields``) and timestamps
(``pkg.timestamps``) are mapped as in every service.

With the servicers, the only module that knows ``agora.user.v1``: the unit of work maps
the domain events with ``event_to_message`` (given to it by the composition root).  Field
paths in errors are the request's (``name``, ``user.display_name``, ``roles[1]``), as
AIP-193 asks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from uuid import UUID

from google.protobuf.message import Message

from agora.user.v1 import user_events_pb2, user_pb2
from agora.user.v1.reasons import UserReason
from pkg.errors import Unauthenticated
from pkg.fields import parse_resource_id
from pkg.server import Principal
from pkg.timestamps import timestamp_to_proto
from services.user.domain import (
    AccountState,
    Caller,
    InvalidField,
    Role,
    User,
    UserCreated,
    UserDisabled,
    UserEnabled,
    UserProfileUpdated,
    UserRolesChanged,
)

_PREFIX = "users/"
_ME = "users/me"
_TO_PROTO = {
    Role.CUSTOMER: user_pb2.ROLE_CUSTOMER,
    Role.PROVIDER: user_pb2.ROLE_PROVIDER,
    Role.ADMIN: user_pb2.ROLE_ADMIN,
}
_FROM_PROTO: dict[int, Role] = {v: k for k, v in _TO_PROTO.items()}
_STATE = {
    AccountState.ACTIVE: user_pb2.User.STATE_ACTIVE,
    AccountState.DISABLED: user_pb2.User.STATE_DISABLED,
}


def user_name(user_id: UUID) -> str:
    """The resource name ``users/{uuid}``."""
    return f"{_PREFIX}{user_id}"


def parse_user_name(name: str, caller: Caller, *, field: str = "name") -> UUID:
    """The user id ``name`` denotes; ``users/me`` is the caller.

    Raises ``InvalidField`` (at ``field``) for anything but ``users/me`` or ``users/{uuid}``.
    """
    if name == _ME:
        return caller.user_id
    if name.startswith(_PREFIX):
        with contextlib.suppress(ValueError):
            return UUID(name.removeprefix(_PREFIX))
    raise InvalidField(field, "must be users/me or users/{uuid}", reason=UserReason.NAME_INVALID)


def caller_from_principal(principal: Principal) -> Caller:
    """The ``Caller`` of an access token whose ``sub`` is a user id (``{uuid}`` or
    ``users/{uuid}``); ``Unauthenticated`` (SUBJECT_NOT_A_USER) for any other subject."""
    try:
        user_id = UUID(principal.subject.removeprefix(_PREFIX))
    except ValueError:
        raise Unauthenticated(
            "the access token's subject is not a user", reason=UserReason.SUBJECT_NOT_A_USER
        ) from None
    return Caller.of(user_id, principal.roles)


def roles_from_proto(values: Sequence[int]) -> list[Role]:
    """Domain roles of a request's ``roles``; ``InvalidField`` (``roles[i]``) for
    ROLE_UNSPECIFIED or an unknown number."""
    roles = []
    for index, value in enumerate(values):
        role = _FROM_PROTO.get(value)
        if role is None:
            raise InvalidField(f"roles[{index}]", "must be a role", reason=UserReason.ROLE_INVALID)
        roles.append(role)
    return roles


def parse_account_name(name: str, *, field: str = "name") -> UUID:
    """The user id of ``users/{uuid}`` (no ``users/me``: admins name the account);
    ``InvalidField`` (at ``field``) otherwise."""
    return parse_resource_id(name, "users", field=field, reason=UserReason.NAME_INVALID)


def _roles(roles: Iterable[Role]) -> list[user_pb2.Role.ValueType]:
    return sorted(_TO_PROTO[r] for r in roles)


def user_to_proto(user: User, *, show_email: bool) -> user_pb2.User:
    """The ``agora.user.v1.User`` of ``user``; ``email`` empty unless ``show_email``.

    Roles are in enum order; the password hash never leaves the service.
    """
    return user_pb2.User(
        name=user_name(user.id),
        email=user.email.value if show_email else "",
        display_name=user.display_name,
        roles=_roles(user.roles),
        create_time=timestamp_to_proto(user.create_time),
        update_time=timestamp_to_proto(user.update_time),
        etag=user.etag,
        state=_STATE[user.state],
    )


def event_to_message(event: object) -> tuple[str, Message]:
    """``(subject, message)`` of a domain event for the outbox (``pkg.uow.EventMapper``):
    the user's resource name and its ``agora.user.v1`` event message (user_events.proto).
    Raises ``TypeError`` for anything but the user service's events."""
    match event:
        case UserCreated(user_id=user_id, roles=roles, display_name=display_name):
            message: Message = user_events_pb2.UserCreated(
                user=user_name(user_id), roles=_roles(roles), display_name=display_name
            )
        case UserRolesChanged(user_id=user_id, roles=roles, previous_roles=previous):
            message = user_events_pb2.UserRolesChanged(
                user=user_name(user_id), roles=_roles(roles), previous_roles=_roles(previous)
            )
        case UserDisabled(user_id=user_id):
            message = user_events_pb2.UserDisabled(user=user_name(user_id))
        case UserEnabled(user_id=user_id):
            message = user_events_pb2.UserEnabled(user=user_name(user_id))
        case UserProfileUpdated(user_id=user_id, display_name=display_name):
            message = user_events_pb2.UserProfileUpdated(
                user=user_name(user_id), display_name=display_name
            )
        case _:
            raise TypeError(f"not a user service event: {type(event).__name__}")
    return user_name(user_id), message
