"""``SqlUnitOfWork``: the ``pkg.uow.UnitOfWork`` port on one SQLAlchemy ``AsyncSession``
transaction, with the transactional outbox of ``pkg.events`` (docs/adr/0027)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.clock import utcnow
from pkg.events._catalog import EventTypes, contract_events
from pkg.events._envelope import current_traceparent, seal
from pkg.events._tables import NOTIFY_CHANNEL, OUTBOX
from pkg.uow import Aggregate, EventMapper, collect_events

R_co = TypeVar("R_co")

_RECEIVE = text(
    "INSERT INTO inbox (event_id) VALUES (:event_id) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


class SqlUnitOfWork(Generic[R_co]):
    """``UnitOfWork`` on one ``AsyncSession`` transaction (``pkg.db.session_factory``
    sessions, so the transaction is bounded in time and connection failures surface as
    ``pkg.errors.Unavailable``).

    ``repositories(session, seen)`` builds the service's repositories on the session for
    each block; ``mapper`` maps domain events to contract messages (``EventMapper``);
    ``source`` names the producing service in each envelope; ``events`` are the message
    types it may commit (default: ``pkg.events.contract_events()``, the contracts' event
    types).  ``commit()`` inserts one
    ``outbox`` row per event (serialized ``agora.events.v1.Envelope``, subject, type; the
    identity column orders them), sends ``NOTIFY agora_outbox`` (delivered by PostgreSQL
    only when the transaction commits) and commits.  Not reentrant: one block at a time.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        mapper: EventMapper,
        repositories: Callable[[AsyncSession, Callable[[Aggregate], None]], R_co],
        events: EventTypes | None = None,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._source = source
        self._mapper = mapper
        self._build = repositories
        self._session: AsyncSession | None = None
        self._repositories: R_co | None = None
        self._seen: list[Aggregate] = []

    @property
    def repositories(self) -> R_co:
        """The repositories of the open block; ``RuntimeError`` outside one."""
        if self._repositories is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._repositories

    @property
    def session(self) -> AsyncSession:
        """The open block's session (for adapters); ``RuntimeError`` outside one."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("the unit of work is open already")
        session = self._sessions()
        await session.__aenter__()
        self._session, self._seen = session, []
        self._repositories = self._build(session, self.seen)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session, self._repositories = self._session, None, None
        self._seen = []
        if session is not None:
            await session.__aexit__(exc_type, error, tb)

    def seen(self, aggregate: Aggregate) -> None:
        """Track ``aggregate`` (once) so its events are collected at commit."""
        if not any(aggregate is known for known in self._seen):
            self._seen.append(aggregate)

    async def received(self, event_id: str) -> bool:
        """Insert ``event_id`` into ``inbox`` unless present; ``False`` when present.  A
        concurrent transaction inserting the same id makes this wait for it to end."""
        result = await self.session.execute(_RECEIVE, {"event_id": uuid.UUID(event_id)})
        return result.first() is not None

    async def commit(self) -> None:
        """Write the collected events to ``outbox`` (one statement) and commit; the block
        may go on with a new transaction afterwards.  ``TypeError`` (nothing is committed)
        from the mapper for an event it does not map, or for a message whose type is not one
        of ``events`` (a type the contracts do not declare as an event)."""
        session = self.session
        now = utcnow()
        traceparent = current_traceparent()
        rows = []
        for event in collect_events(self._seen):
            subject, message = self._mapper(event)
            if self._events is None:
                self._events = contract_events()
            self._events.check(message)
            envelope = seal(
                message, source=self._source, subject=subject, time=now, traceparent=traceparent
            )
            rows.append(
                {
                    "event_id": uuid.UUID(envelope.id),
                    "type": envelope.type,
                    "subject": subject,
                    "envelope": envelope.SerializeToString(),
                }
            )
        if rows:
            await session.execute(insert(OUTBOX), rows)
            await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        await session.commit()
