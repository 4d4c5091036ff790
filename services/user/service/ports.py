"""Ports the use cases need, declared here by their consumer (adapters implement them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.user.domain import Email, User
from services.user.service.paging import PageCursor

Clock = Callable[[], datetime]
"""Returns the current instant as a timezone-aware UTC ``datetime``."""


class UserRepository(Protocol):
    """Stored users.  Every method is one transaction of its own."""

    async def get(self, user_id: UUID) -> User | None:
        """The user with ``user_id``, or ``None``."""
        ...

    async def get_by_email(self, email: Email) -> User | None:
        """The user whose email equals ``email`` regardless of case, or ``None``."""
        ...

    async def get_by_request_id(self, request_id: UUID) -> User | None:
        """The user an earlier ``add`` with this idempotency key created, or ``None``."""
        ...

    async def add(self, user: User, *, request_id: UUID | None = None) -> User:
        """Store a new ``user`` and, when given, its idempotency key, atomically.

        When ``request_id`` is already recorded (also by a concurrent call that won the
        race) nothing is written and the user stored for it is returned.  Otherwise
        returns ``user``.  Raises ``EmailTaken`` when another user has the email.
        """
        ...

    async def save(self, user: User, *, expected_version: int) -> bool:
        """Write ``user``'s profile, ``update_time`` and ``version`` if the stored version
        is still ``expected_version``; return ``False`` (nothing written) when it is not.

        Raises ``UserNotFound`` when the user is gone.
        """
        ...

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        """Replace the user's password hash (after a rehash); the version is unchanged."""
        ...

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[User]:
        """Up to ``limit`` users, newest first (``create_time`` then ``id``, descending),
        strictly after ``after`` in that order when given."""
        ...


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
