"""Idempotent creates on PostgreSQL: a resource row and its request's key row, once.

AIP-155 (https://google.aip.dev/155): a create carrying a ``request_id`` already seen
answers with the first request's resource instead of making a second one.  The decision
for a key read before the transaction is ``pkg.idempotency.decide``; this module settles
the race that reading cannot, two creates with one key at once, with the key table's
primary key.  Each service keeps its own key table, declared in its ORM with at least::

    class IdempotencyKeyRow(Base):
        __tablename__ = "idempotency_keys"
        scope: Mapped[str] = mapped_column(Text, primary_key=True)
        request_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
        create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
        expire_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
        ...  # fingerprint, the created resource's id

and a function from its rows to ``pkg.idempotency.IdempotencyKey`` (the "key mapping").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from psycopg.rows import args_row
from sqlalchemy import delete, inspect, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pkg.idempotency import IdempotencyKey


class KeyRow(Protocol):
    """What ``insert_once`` reads of a key row: its primary key ``(scope, request_id)``
    and when it was created (timezone-aware, the create's instant)."""

    @property
    def scope(self) -> str: ...

    @property
    def request_id(self) -> UUID: ...

    @property
    def create_time(self) -> datetime: ...


K = TypeVar("K", bound=KeyRow)


async def insert_once(
    session: AsyncSession,
    row: object,
    key_row: K | None,
    to_key: Callable[[K], IdempotencyKey],
    *,
    sweep: int = 0,
) -> IdempotencyKey | None:
    """Insert ``row`` (a new ORM instance of the resource) and ``key_row`` (a new ORM
    instance of the service's key table, or ``None`` for a create without a
    ``request_id``) in ``session``'s transaction; ``None`` when both are inserted, else
    the live key record that holds ``key_row``'s ``(scope, request_id)``, mapped by
    ``to_key``: the winner of a concurrent create with the same key, whose resource is
    the answer (AIP-155).

    First deletes that key's record if it expired by ``key_row.create_time`` (an expired
    key counts as unseen, ``pkg.idempotency``), then, with ``sweep`` above 0, up to
    ``sweep`` other expired records (``FOR UPDATE SKIP LOCKED`` over ``expire_time``, so
    concurrent creates never wait on each other's sweep; index ``expire_time``).  The two
    rows are inserted in a savepoint: a unique violation of any kind rolls back only the
    savepoint, and the key is read again; a concurrent create holding the key makes the
    insert wait until it commits or rolls back (PostgreSQL's unique index check), so under
    READ COMMITTED the read sees its record.

    Raises the ``sqlalchemy.exc.IntegrityError`` when there is no key, or no live record
    holds it (the violation was of another constraint: the caller maps it, e.g. an email
    taken); the transaction stays usable.  The key table's primary key must be
    ``(scope, request_id)`` in that order.
    """
    if key_row is not None:
        table = type(key_row)
        columns = inspect(table).columns
        scope, request_id, now = key_row.scope, key_row.request_id, key_row.create_time
        await session.execute(
            delete(table).where(
                columns.scope == scope,
                columns.request_id == request_id,
                columns.expire_time <= now,
            )
        )
        if sweep > 0:
            expired = (
                select(columns.scope, columns.request_id)
                .where(columns.expire_time <= now)
                .limit(sweep)
                .with_for_update(skip_locked=True)
            )
            await session.execute(
                delete(table).where(tuple_(columns.scope, columns.request_id).in_(expired))
            )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
            if key_row is not None:
                session.add(key_row)
                await session.flush()
    except IntegrityError:
        if key_row is None:
            raise
        held = await session.get(table, (scope, request_id), populate_existing=True)
        record = None if held is None else to_key(held)
        if record is None or record.expired(now):
            raise
        return record
    return None


def key_of(
    scope: str,
    request_id: UUID,
    fingerprint: str,
    resource_id: UUID,
    create_time: datetime,
    expire_time: datetime,
) -> IdempotencyKey:
    """The ``IdempotencyKey`` of a key row's columns, in this order (a service's key
    mapping, and with ``KEY_ROW`` the row maker of a ``pkg.db.Reader`` read that selects
    ``scope, request_id, fingerprint, <resource id>, create_time, expire_time``)."""
    return IdempotencyKey(
        scope=scope,
        request_id=str(request_id),
        fingerprint=fingerprint,
        resource_id=str(resource_id),
        create_time=create_time,
        expire_time=expire_time,
    )


KEY_ROW = args_row(key_of)
"""psycopg's row maker for ``key_of`` (rows passed positionally)."""
