"""In-memory fakes of the user service's ports (same Protocols as the real adapters)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pkg.idempotency import IdempotencyKey
from pkg.testing import FakeUnitOfWork
from pkg.uow import Aggregate
from services.user.domain import Email, EmailTaken, User
from services.user.entrypoints.grpc.mappers import event_to_message
from services.user.service import PageCursor, UserRepositories


class FakeUserRepository:
    """``UserQueries`` and ``UserRepository`` in dicts; ``adds`` counts stored users.

    ``unit`` is the ``FakeUnitOfWork`` whose repositories are this fake (``unit.committed``:
    the domain events committed, ``unit.messages`` their contract messages); ``units`` is
    the factory the use cases take.
    """

    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}
        self.keys: dict[tuple[str, str], IdempotencyKey] = {}
        self.adds = 0
        self._seen: Callable[[Aggregate], None] = lambda aggregate: None
        self.unit: FakeUnitOfWork[UserRepositories] = FakeUnitOfWork(
            self._repositories, mapper=event_to_message
        )

    def _repositories(self, seen: Callable[[Aggregate], None]) -> UserRepositories:
        self._seen = seen
        return _Repositories(self)

    def units(self) -> FakeUnitOfWork[UserRepositories]:
        """The one fake unit of work (a factory of it, as the use cases take)."""
        return self.unit

    async def get(self, user_id: UUID) -> User | None:
        return self.users.get(user_id)

    async def get_by_email(self, email: Email) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        return self.keys.get((scope, request_id))

    async def add(self, user: User, *, key: IdempotencyKey | None = None) -> IdempotencyKey | None:
        if key is not None:
            held = self.keys.get((key.scope, key.request_id))
            if held is not None and not held.expired(key.create_time):
                return held
        if await self.get_by_email(user.email) is not None:
            raise EmailTaken()
        self.users[user.id] = user
        if key is not None:
            self.keys[(key.scope, key.request_id)] = key
        self.adds += 1
        self._seen(user)
        return None

    async def get_for_update(self, user_id: UUID) -> User | None:
        return self.users.get(user_id)

    async def save(self, user: User) -> None:
        self.users[user.id] = user
        self._seen(user)

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        self.users[user_id] = replace(self.users[user_id], password_hash=password_hash)

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[User]:
        ordered = sorted(self.users.values(), key=lambda u: (u.create_time, u.id), reverse=True)
        if after is not None:
            ordered = [u for u in ordered if (u.create_time, u.id) < (after.create_time, after.id)]
        return ordered[:limit]


class _Repositories:
    def __init__(self, users: FakeUserRepository) -> None:
        self.users = users


class FakeHasher:
    """``PasswordHasher`` with readable hashes: ``v2$<password>`` (current parameters) or
    ``v1$<password>`` (outdated ones).  Counts dummy verifications."""

    def __init__(self) -> None:
        self.dummy_verifications = 0

    async def hash(self, password: str) -> str:
        return f"v2${password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash.split("$", 1)[1] == password

    async def verify_dummy(self, password: str) -> None:
        self.dummy_verifications += 1

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith("v2$")


class FakeClock:
    """A clock that advances one second per reading, from 2025-01-01T00:00:00Z."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current
