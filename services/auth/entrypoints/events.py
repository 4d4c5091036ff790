"""The auth service's event handlers: the user service's events -> ``AccountChanges``.

Built in the composition root into the ``pkg.events.MessageBus`` of auth's consumer group
on the user service's stream.  With the gRPC mappers, the only code of auth that reads
``agora.user.v1``'s event messages.
"""

from __future__ import annotations

import contextlib
import uuid

from agora.user.v1 import user_events_pb2
from pkg.events import Event, MessageBus, Rejected
from services.auth.service.account_changes import AccountChanges

_PREFIX = "users/"


def _user_id(name: str) -> str:
    """The user id of ``users/{uuid}``; ``Rejected`` (dead-lettered) for anything else."""
    if name.startswith(_PREFIX):
        with contextlib.suppress(ValueError):
            return str(uuid.UUID(name.removeprefix(_PREFIX)))
    raise Rejected(f"{name!r} is not a user's resource name")


def user_event_bus(changes: AccountChanges) -> MessageBus:
    """Handlers of ``UserRolesChanged`` and ``UserDisabled`` (each ends the user's
    sessions); the other user events are not auth's concern and are acknowledged unread."""

    async def roles_changed(payload: user_events_pb2.UserRolesChanged, event: Event) -> None:
        await changes.end_sessions(_user_id(payload.user), event_id=event.id, because=event.type)

    async def disabled(payload: user_events_pb2.UserDisabled, event: Event) -> None:
        await changes.end_sessions(_user_id(payload.user), event_id=event.id, because=event.type)

    return MessageBus(
        {user_events_pb2.UserRolesChanged: roles_changed, user_events_pb2.UserDisabled: disabled}
    )
