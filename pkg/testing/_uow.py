"""``FakeUnitOfWork``: the ``pkg.uow.UnitOfWork`` port in memory, for use-case unit tests."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

from google.protobuf.message import Message

from pkg.events._catalog import EventTypes, contract_events
from pkg.uow import Aggregate, EventMapper, collect_events

R = TypeVar("R")


class FakeUnitOfWork(Generic[R]):
    """A unit of work whose repositories are the fakes ``repositories(seen)`` builds (they
    call ``seen`` for every aggregate they load or add, as the SQL ones do).

    ``commit()`` collects the recorded events into ``committed`` (domain events, in order)
    and, with a ``mapper``, maps each into ``messages`` (``(subject, message)``), so a test
    sees an event the mapper does not know, or a message type that is not one of
    ``events`` (default: the contracts' event types), as the ``TypeError`` the real commit
    raises.
    ``commits`` counts commits; events of a block left without commit are dropped, like a
    rollback (the fakes' state changes are not undone).  ``received`` remembers event ids.
    """

    def __init__(
        self,
        repositories: Callable[[Callable[[Aggregate], None]], R],
        *,
        mapper: EventMapper | None = None,
        events: EventTypes | None = None,
    ) -> None:
        self._repositories = repositories(self.seen)
        self._mapper = mapper
        self._events = events
        self._seen: list[Aggregate] = []
        self._received: set[str] = set()
        self.committed: list[object] = []
        self.messages: list[tuple[str, Message]] = []
        self.commits = 0

    @property
    def repositories(self) -> R:
        """The fake repositories."""
        return self._repositories

    async def __aenter__(self) -> Self:
        self._seen = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for aggregate in self._seen:
            aggregate.events.clear()
        self._seen = []

    def seen(self, aggregate: Aggregate) -> None:
        """Track ``aggregate`` (once) so its events are collected at commit."""
        if not any(aggregate is known for known in self._seen):
            self._seen.append(aggregate)

    async def received(self, event_id: str) -> bool:
        """``False`` when ``event_id`` was received before (in a committed block or not)."""
        if event_id in self._received:
            return False
        self._received.add(event_id)
        return True

    async def commit(self) -> None:
        """Record the collected events (mapped, when there is a mapper) and count."""
        events = list(collect_events(self._seen))
        if self._mapper is not None:
            mapped = [self._mapper(event) for event in events]
            allowed = self._events or contract_events()
            for _, message in mapped:
                allowed.check(message)
            self.messages.extend(mapped)
        self.committed.extend(events)
        self.commits += 1
