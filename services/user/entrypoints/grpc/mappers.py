"""Proto <-> domain for the user service: resource names, roles, users, callers.

Request ids, update masks, field renaming (``pkg.fields``) and timestamps
(``pkg.timestamps``) are mapped as in every service.

With the servicers, the only module that knows ``agora.user.v1``.  Field paths in errors
are the request's (``name``, ``user.display_name``, ``roles[1]``), as AIP-193 asks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from uuid import UUID

from agora.user.v1 import user_pb2
from agora.user.v1.reasons import UserReason
from pkg.errors import Unauthenticated
from pkg.server import Principal
from pkg.timestamps import timestamp_to_proto
from services.user.domain import Caller, InvalidField, Role, User

_PREFIX = "users/"
_ME = "users/me"
_TO_PROTO = {Role.CUSTOMER: user_pb2.ROLE_CUSTOMER, Role.PROVIDER: user_pb2.ROLE_PROVIDER,
             Role.ADMIN: user_pb2.ROLE_ADMIN}
_FROM_PROTO: dict[int, Role] = {v: k for k, v in _TO_PROTO.items()}


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
        raise Unauthenticated("the access token's subject is not a user",
                              reason=UserReason.SUBJECT_NOT_A_USER) from None
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


def user_to_proto(user: User, *, show_email: bool) -> user_pb2.User:
    """The ``agora.user.v1.User`` of ``user``; ``email`` empty unless ``show_email``.

    Roles are in enum order; the password hash never leaves the service.
    """
    return user_pb2.User(
        name=user_name(user.id), email=user.email.value if show_email else "",
        display_name=user.display_name,
        roles=sorted(_TO_PROTO[r] for r in user.roles),
        create_time=timestamp_to_proto(user.create_time),
        update_time=timestamp_to_proto(user.update_time),
        etag=user.etag)
