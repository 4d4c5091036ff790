"""Fixtures of the unit tests: fakes of the ports and a user factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import pytest

from services.user.domain import Role, User
from services.user.service import Accounts
from services.user.tests.conftest import PASSWORD, random_email
from services.user.tests.fakes import FakeClock, FakeHasher, FakeUserRepository

NewUser = Callable[..., Awaitable[User]]


@pytest.fixture
def users() -> FakeUserRepository:
    return FakeUserRepository()


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def new_user(users: FakeUserRepository, hasher: FakeHasher, clock: FakeClock) -> NewUser:
    """Creates a user through the use case: ``await new_user(roles=[Role.ADMIN])``."""

    async def make(
        email: str | None = None, roles: Iterable[Role] = (), display_name: str = "Ada"
    ) -> User:
        accounts = Accounts(users, users.units, hasher, clock=clock)
        return await accounts.create_user(
            email=email or random_email(),
            password=PASSWORD,
            display_name=display_name,
            roles=roles,
            allow_admin=True,
        )

    return make
