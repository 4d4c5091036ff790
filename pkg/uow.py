"""The unit of work: one PostgreSQL transaction for a use case's writes and their events.

After cosmicpython's ``service_layer/unit_of_work.py``, with its dual write removed:
``commit()`` collects the domain events the aggregates it has seen recorded, maps each to
a contract message, writes them to the service's ``outbox`` table and commits the state and
the outbox rows together (the relay, ``pkg.events.Relay``, publishes them afterwards), so an
event is committed with the state that caused it or not at all.

A use case takes the ``UnitOfWork`` port (this module imports neither SQLAlchemy nor
protobuf, so use cases and domain code may use it); ``pkg.sql_uow.SqlUnitOfWork`` is the
adapter and ``pkg.testing.FakeUnitOfWork`` the fake.  Usage::

    async with uow:
        user = await uow.repositories.users.get(user_id)   # the repository calls uow.seen
        user.disable(now)                                  # records UserDisabled
        await uow.commit()

Leaving the block without ``commit()`` rolls back (state and events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

if TYPE_CHECKING:
    from google.protobuf.message import Message

R = TypeVar("R", covariant=True)

EventMapper = Callable[[object], "tuple[str, Message]"]
"""Maps one domain event (a past-tense dataclass) to ``(subject, message)``: the
aggregate's resource name (``users/<uuid>``) and the contract's event message.  It lives on
the adapter side (the domain never imports protobuf) and raises ``TypeError`` for an event
it does not know."""


class Aggregate(Protocol):
    """An aggregate that records past-tense domain events in ``events`` (a list the unit of
    work empties on commit; a frozen dataclass may hold it)."""

    @property
    def events(self) -> list[Any]:
        """The events recorded and not yet committed, oldest first."""
        ...


class UnitOfWork(Protocol[R]):
    """The port a use case takes: ``async with uow:`` opens the transaction,
    ``uow.repositories`` (the service's repositories, type ``R``) work in it, ``commit()``
    writes the recorded events and commits once; leaving the block uncommitted rolls back.
    """

    @property
    def repositories(self) -> R: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def seen(self, aggregate: Aggregate) -> None:
        """Track ``aggregate`` so its events are collected at commit (repositories call it
        for every aggregate they load or add)."""

    async def received(self, event_id: str) -> bool:
        """Record in the inbox that the event ``event_id`` (UUID text) is handled in this
        transaction; ``False`` when it was already handled (skip its effect)."""

    async def commit(self) -> None:
        """Write the collected events to the outbox and commit the transaction."""


def collect_events(aggregates: list[Aggregate]) -> Iterator[object]:
    """The events ``aggregates`` recorded, in the order they were seen and recorded; each
    aggregate's list is emptied."""
    for aggregate in aggregates:
        while aggregate.events:
            yield aggregate.events.pop(0)
