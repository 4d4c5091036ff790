"""The user service's ports on PostgreSQL: ``UserQueries`` (reads outside a transaction)
and ``UserRepository`` (in the unit of work's transaction), with SQLAlchemy 2's asyncio ORM
and psycopg 3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from psycopg.rows import args_row
from sqlalchemy import select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.db import Reader
from pkg.idempotency import IdempotencyKey
from pkg.idempotency_sql import KEY_ROW, insert_once, key_of
from pkg.paging import PageCursor
from pkg.uow import Aggregate
from services.user.adapters.orm import EMAIL_INDEX, IdempotencyKeyRow, UserRow
from services.user.domain import AccountState, Email, EmailTaken, Role, User

SWEEP_LIMIT = 100
"""Most expired idempotency keys one create deletes besides its own (``insert_once``'s
``sweep``)."""


def _to_domain(row: UserRow) -> User:
    return User(
        id=row.id,
        email=Email(row.email),
        display_name=row.display_name,
        roles=frozenset(Role(r) for r in row.roles),
        password_hash=row.password_hash,
        create_time=row.create_time,
        update_time=row.update_time,
        version=row.version,
        state=AccountState(row.state),
    )


def _to_row(user: User) -> UserRow:
    return UserRow(
        id=user.id,
        email=user.email.value,
        display_name=user.display_name,
        roles=sorted(r.value for r in user.roles),
        password_hash=user.password_hash,
        create_time=user.create_time,
        update_time=user.update_time,
        version=user.version,
        state=user.state.value,
    )


def _user(
    id: UUID,
    email: str,
    display_name: str,
    roles: list[str],
    password_hash: str,
    create_time: datetime,
    update_time: datetime,
    version: int,
    state: str,
) -> User:
    return User(
        id=id,
        email=Email(email),
        display_name=display_name,
        roles=frozenset(Role(r) for r in roles),
        password_hash=password_hash,
        create_time=create_time,
        update_time=update_time,
        version=version,
        state=AccountState(state),
    )


# Rows are passed positionally (``args_row``: no column names decoded per read), so each
# SELECT lists its columns in the order of the function's parameters.
_USER_ROW = args_row(_user)
_USER_COLUMNS = (
    "SELECT id, email, display_name, roles, password_hash, create_time,"
    " update_time, version, state FROM users"
)
_GET_USER = _USER_COLUMNS + " WHERE id = %s"
_GET_USER_BY_EMAIL = _USER_COLUMNS + " WHERE lower(email) = %s"
_GET_KEY = (
    "SELECT scope, request_id, fingerprint, user_id, create_time, expire_time"
    " FROM idempotency_keys WHERE scope = %s AND request_id = %s"
)


def _key_to_domain(row: IdempotencyKeyRow) -> IdempotencyKey:
    return key_of(
        row.scope, row.request_id, row.fingerprint, row.user_id, row.create_time, row.expire_time
    )


def _key_to_row(key: IdempotencyKey) -> IdempotencyKeyRow:
    return IdempotencyKeyRow(
        scope=key.scope,
        request_id=UUID(key.request_id),
        fingerprint=key.fingerprint,
        user_id=UUID(key.resource_id),
        create_time=key.create_time,
        expire_time=key.expire_time,
    )


def _violated(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


class SqlUserQueries:
    """See ``services.user.service.ports.UserQueries``.

    Single-row reads go through ``reader`` (one round trip, prepared SQL, no transaction,
    rows made straight into domain objects); listing runs in one ORM session of
    ``sessions``.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], reader: Reader) -> None:
        self._sessions = sessions
        self._reader = reader

    async def get(self, user_id: UUID) -> User | None:
        """See ``UserQueries.get``."""
        return await self._reader.first(_GET_USER, (user_id,), _USER_ROW)

    async def get_by_email(self, email: Email) -> User | None:
        """See ``UserQueries.get_by_email``."""
        return await self._reader.first(_GET_USER_BY_EMAIL, (email.normalized,), _USER_ROW)

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """See ``UserQueries.get_idempotency_key``."""
        return await self._reader.first(_GET_KEY, (scope, UUID(request_id)), KEY_ROW)

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[User]:
        """See ``UserQueries.list_newest``."""
        query = select(UserRow).order_by(UserRow.create_time.desc(), UserRow.id.desc()).limit(limit)
        if after is not None:
            query = query.where(
                tuple_(UserRow.create_time, UserRow.id) < tuple_(after.create_time, after.id)
            )
        async with self._sessions() as session:
            rows = await session.scalars(query)
            return [_to_domain(row) for row in rows]


class SqlUserRepository:
    """See ``services.user.service.ports.UserRepository``: works in ``session`` (the unit
    of work's) and hands every user it adds or saves to ``seen``, so the unit of work
    collects the events they recorded."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self._session = session
        self._seen = seen

    async def get_for_update(self, user_id: UUID) -> User | None:
        """See ``UserRepository.get_for_update`` (``SELECT ... FOR UPDATE``)."""
        row = await self._session.scalar(
            select(UserRow)
            .where(UserRow.id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return None if row is None else _to_domain(row)

    async def add(self, user: User, *, key: IdempotencyKey | None = None) -> IdempotencyKey | None:
        """See ``UserRepository.add`` (``pkg.idempotency_sql.insert_once``).

        With a ``key``, its expired record and up to ``SWEEP_LIMIT`` other expired records
        are deleted first.  A unique violation of any kind is answered by reading the key
        again (a live record is the winner of a concurrent create and is returned);
        otherwise the email index means ``EmailTaken``.
        """
        key_row = None if key is None else _key_to_row(key)
        try:
            held = await insert_once(
                self._session, _to_row(user), key_row, _key_to_domain, sweep=SWEEP_LIMIT
            )
        except IntegrityError as exc:
            if _violated(exc) == EMAIL_INDEX:
                raise EmailTaken() from exc
            raise
        if held is None:
            self._seen(user)
        return held

    async def save(self, user: User) -> None:
        """See ``UserRepository.save``."""
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user.id)
            .values(
                display_name=user.display_name,
                roles=sorted(r.value for r in user.roles),
                state=user.state.value,
                update_time=user.update_time,
                version=user.version,
            )
            .execution_options(synchronize_session=False)
        )
        self._seen(user)

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        """See ``UserRepository.set_password_hash``."""
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(password_hash=password_hash)
            .execution_options(synchronize_session=False)
        )


class SqlUserRepositories:
    """``UserRepositories`` of one unit of work: ``users`` on its session."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self.users = SqlUserRepository(session, seen)
