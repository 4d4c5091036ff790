"""The message bus: which handler applies which event type, built in the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf.message import Message

from pkg.events._envelope import Event

M = TypeVar("M", bound=Message)
Handler = Callable[[M, Event], Awaitable[None]]
"""A plain async function ``handler(payload, event)``: applies the effect of one event and
commits it (with ``uow.received(event.id)`` in the same transaction); raises ``Rejected``
when the event can never apply, anything else to be retried."""


class Rejected(Exception):
    """The event can never be applied (e.g. its aggregate does not exist): it goes to the
    dead-letter stream at once, with ``str(error)`` as the reason."""


@dataclass(frozen=True)
class Route:
    """The payload class of one event type and its handler."""

    message_type: type[Message]
    handler: Callable[[Any, Event], Awaitable[None]]


class MessageBus:
    """Handlers by event type (the payload's full message name).

    Built with an explicit mapping, e.g. ``MessageBus({UserDisabled: on_disabled})`` where
    ``on_disabled = revoke_families(uow)`` was constructed with its dependencies; no
    signature is inspected.  ``ValueError`` for a type registered twice.
    """

    def __init__(self, handlers: Mapping[type[Message], Handler[Any]] | None = None) -> None:
        self._routes: dict[str, Route] = {}
        for message_type, handler in (handlers or {}).items():
            self.register(message_type, handler)

    def register(self, message_type: type[M], handler: Handler[M]) -> None:
        """Apply events whose payload is a ``message_type`` with ``handler``."""
        name = message_type.DESCRIPTOR.full_name
        if name in self._routes:
            raise ValueError(f"a handler for {name} is registered already")
        self._routes[name] = Route(message_type, handler)

    def route(self, type_name: str) -> Route | None:
        """The route of ``type_name``, or ``None`` when this service does not handle it."""
        return self._routes.get(type_name)

    @property
    def types(self) -> frozenset[str]:
        """The full names of the handled event types."""
        return frozenset(self._routes)
