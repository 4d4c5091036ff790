"""CreateUser with a request_id (AIP-155): replays, reuse, password proof, scope, expiry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from pkg.idempotency import IdempotencyKey, IdempotencyKeyReused
from services.user.domain import Email, Role, User
from services.user.service import Accounts
from services.user.tests.conftest import PASSWORD
from services.user.tests.fakes import FakeClock, FakeHasher, FakeUserRepository

TTL = timedelta(hours=24)


class Registrar:
    """``create_user`` as auth calls it, with Ada's request as the default."""

    def __init__(self, users: FakeUserRepository, hasher: FakeHasher, clock: FakeClock) -> None:
        self.users, self.hasher, self.clock = users, hasher, clock

    async def create(
        self,
        request_id: UUID,
        *,
        scope: str = "auth",
        email: str = "ada@example.com",
        password: str = PASSWORD,
        display_name: str = "Ada",
        roles: Iterable[Role] = (),
    ) -> User:
        accounts = Accounts(
            self.users, self.users.units, self.hasher, clock=self.clock, key_ttl=TTL
        )
        return await accounts.create_user(
            email=email,
            password=password,
            display_name=display_name,
            roles=roles,
            request_id=request_id,
            scope=scope,
        )


@pytest.fixture
def registrar(users: FakeUserRepository, hasher: FakeHasher, clock: FakeClock) -> Registrar:
    return Registrar(users, hasher, clock)


async def test_same_request_again_returns_the_first_user(
    registrar: Registrar, users: FakeUserRepository
) -> None:
    request_id = uuid4()
    first = await registrar.create(request_id)
    again = await registrar.create(request_id)
    assert again == first
    assert users.adds == 1


async def test_a_replay_is_compared_after_normalising(
    registrar: Registrar, users: FakeUserRepository
) -> None:
    request_id = uuid4()
    first = await registrar.create(request_id, roles=[Role.PROVIDER, Role.CUSTOMER])
    again = await registrar.create(
        request_id,
        email=" ADA@Example.com ",
        display_name=" Ada ",
        roles=[Role.CUSTOMER, Role.PROVIDER],
    )
    assert again == first
    assert users.adds == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"email": "eve@example.com"},
        {"display_name": "Eve"},
        {"roles": [Role.PROVIDER]},
    ],
)
async def test_same_key_with_another_request_is_refused(
    registrar: Registrar, users: FakeUserRepository, changes: dict[str, Any]
) -> None:
    request_id = uuid4()
    await registrar.create(request_id)
    with pytest.raises(IdempotencyKeyReused) as caught:
        await registrar.create(request_id, **changes)
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert [v.field for v in caught.value.violations] == ["request_id"]
    assert users.adds == 1


async def test_a_replay_with_a_wrong_password_is_refused_alike(
    registrar: Registrar, users: FakeUserRepository, hasher: FakeHasher
) -> None:
    request_id = uuid4()
    await registrar.create(request_id)
    with pytest.raises(IdempotencyKeyReused) as wrong_password:
        await registrar.create(request_id, password="another long password")
    with pytest.raises(IdempotencyKeyReused) as other_request:
        await registrar.create(request_id, display_name="Eve", password="another long password")
    assert str(wrong_password.value) == str(other_request.value)
    assert wrong_password.value.violations == other_request.value.violations
    assert hasher.dummy_verifications == 1
    assert users.adds == 1


async def test_keys_of_other_callers_are_independent(
    registrar: Registrar, users: FakeUserRepository
) -> None:
    request_id = uuid4()
    ada = await registrar.create(request_id, scope="auth")
    eve = await registrar.create(
        request_id, scope="cli", email="eve@example.com", display_name="Eve"
    )
    assert eve.id != ada.id
    assert await registrar.create(request_id, scope="auth") == ada
    assert users.adds == 2


async def test_an_expired_key_is_unseen_and_replaced(
    registrar: Registrar, users: FakeUserRepository, clock: FakeClock
) -> None:
    request_id = uuid4()
    ada = await registrar.create(request_id)
    clock.current += TTL
    eve = await registrar.create(request_id, email="eve@example.com", display_name="Eve")
    assert eve.id != ada.id
    assert await registrar.create(request_id, email="eve@example.com", display_name="Eve") == eve
    with pytest.raises(IdempotencyKeyReused):
        await registrar.create(request_id)
    key = users.keys[("auth", str(request_id))]
    assert (key.resource_id, key.expire_time) == (str(eve.id), eve.create_time + TTL)


async def test_a_key_without_fingerprint_matches_no_request(
    registrar: Registrar, users: FakeUserRepository, clock: FakeClock
) -> None:
    request_id = uuid4()
    ada = await registrar.create(request_id)
    legacy = users.keys[("auth", str(request_id))]
    users.keys[("auth", str(request_id))] = IdempotencyKey(
        scope="auth",
        request_id=legacy.request_id,
        fingerprint="",
        resource_id=legacy.resource_id,
        create_time=legacy.create_time,
        expire_time=legacy.expire_time,
    )
    with pytest.raises(IdempotencyKeyReused):
        await registrar.create(request_id)
    assert await users.get(ada.id) == ada


async def test_no_request_id_means_no_key(
    registrar: Registrar, users: FakeUserRepository, hasher: FakeHasher, clock: FakeClock
) -> None:
    await Accounts(users, users.units, hasher, clock=clock).create_user(
        email="ada@example.com", password=PASSWORD, display_name="Ada"
    )
    assert users.keys == {}


class RaceLostRepository(FakeUserRepository):
    """A concurrent create of ``winner`` under ``key`` commits right after this create's
    read of the key (``commit_after="key"``) or of the email (``"email"``)."""

    def __init__(self, winner: User, key: IdempotencyKey, commit_after: str) -> None:
        super().__init__()
        self.winner, self.key, self.commit_after = winner, key, commit_after

    def _maybe_commit(self, read: str) -> None:
        if read == self.commit_after and self.winner.id not in self.users:
            self.users[self.winner.id] = self.winner
            self.keys[(self.key.scope, self.key.request_id)] = self.key

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        found = await super().get_idempotency_key(scope, request_id)
        self._maybe_commit("key")
        return found

    async def get_by_email(self, email: Email) -> User | None:
        found = await super().get_by_email(email)
        self._maybe_commit("email")
        return found


async def _lose_race(
    hasher: FakeHasher, clock: FakeClock, commit_after: str, password: str = PASSWORD
) -> tuple[User, RaceLostRepository, User]:
    request_id = uuid4()
    elsewhere = FakeUserRepository()
    winner = await Registrar(elsewhere, hasher, clock).create(request_id)
    users = RaceLostRepository(winner, elsewhere.keys[("auth", str(request_id))], commit_after)
    return (
        winner,
        users,
        await Registrar(users, hasher, clock).create(request_id, password=password),
    )


@pytest.mark.parametrize("commit_after", ["key", "email"])
async def test_a_create_that_loses_the_race_to_the_same_request_returns_the_winner(
    hasher: FakeHasher, clock: FakeClock, commit_after: str
) -> None:
    winner, users, created = await _lose_race(hasher, clock, commit_after)
    assert created == winner
    assert users.adds == 0


@pytest.mark.parametrize("commit_after", ["key", "email"])
async def test_a_create_that_loses_the_race_to_another_request_is_refused(
    hasher: FakeHasher, clock: FakeClock, commit_after: str
) -> None:
    with pytest.raises(IdempotencyKeyReused):
        await _lose_race(hasher, clock, commit_after, password="another long password")
