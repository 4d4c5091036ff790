"""Ports the use cases need, declared here by their consumer (adapters implement them)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pkg.idempotency import IdempotencyKey
from pkg.paging import PageCursor
from pkg.uow import UnitOfWork
from services.user.domain import Email, User


class UserQueries(Protocol):
    """Reads of stored users outside any unit of work (each one round trip, committed
    data only)."""

    async def get(self, user_id: UUID) -> User | None:
        """The user with ``user_id``, or ``None``."""
        ...

    async def get_by_email(self, email: Email) -> User | None:
        """The user whose email equals ``email`` regardless of case, or ``None``."""
        ...

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """The record of CreateUser key ``(scope, request_id)``, expired or not, or ``None``."""
        ...

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[User]:
        """Up to ``limit`` users, newest first (``create_time`` then ``id``, descending),
        strictly after ``after`` in that order when given."""
        ...


class UserRepository(Protocol):
    """Stored users inside the unit of work's transaction.  ``add`` and ``save`` hand the
    user to the unit of work, which writes the events it recorded at commit."""

    async def get_for_update(self, user_id: UUID) -> User | None:
        """The user with ``user_id``, its row locked until the transaction ends (writes
        of the same user wait: no lost update), or ``None``."""
        ...

    async def add(self, user: User, *, key: IdempotencyKey | None = None) -> IdempotencyKey | None:
        """Store a new ``user`` and, when given, the idempotency ``key`` that created it;
        return ``None`` once both are written (committed with the unit of work).

        A record of the same ``(scope, request_id)`` that expired by ``key.create_time`` is
        replaced.  When a live record holds the key (a concurrent create won the race),
        nothing is written and that record is returned, for the caller to compare.  Raises
        ``EmailTaken`` when another user has the email.  Expired records of other keys may
        be deleted on the way (a bounded number per call).
        """
        ...

    async def save(self, user: User) -> None:
        """Write ``user``'s profile, roles, state, ``update_time`` and ``version`` (the row
        was read with ``get_for_update`` in this transaction)."""
        ...

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        """Replace the user's password hash (after a rehash); the version is unchanged."""
        ...


class UserRepositories(Protocol):
    """What the user service's unit of work holds."""

    @property
    def users(self) -> UserRepository:
        """The users of the open transaction."""
        ...


UserUnitOfWork = UnitOfWork[UserRepositories]
"""The unit of work the use cases take (``pkg.uow``)."""


class PasswordHasher(Protocol):
    """Hashes and checks passwords; the CPU-heavy work runs off the event loop."""

    async def hash(self, password: str) -> str:
        """An encoded hash of ``password`` with a fresh salt."""
        ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash`` (constant time)."""
        ...

    async def verify_dummy(self, password: str) -> None:
        """Spend as long as one ``verify`` does, for an unknown account (no timing oracle)."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether ``password_hash`` was made with other parameters than the current ones."""
        ...
