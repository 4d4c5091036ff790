"""CreateUser and VerifyCredentials use cases against in-memory fakes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.user.domain import EmailTaken, InvalidCredentials, InvalidField, Role
from services.user.service import Accounts
from services.user.tests.conftest import PASSWORD
from services.user.tests.fakes import FakeClock, FakeHasher, FakeUserRepository
from services.user.tests.unit.conftest import NewUser


async def test_new_user_is_a_customer_with_a_hashed_password(
    users: FakeUserRepository, hasher: FakeHasher, clock: FakeClock
) -> None:
    user = await Accounts(users, users.units, hasher, clock=clock).create_user(
        email=" Ada@Example.com ", password=PASSWORD, display_name="Ada"
    )
    assert user.roles == {Role.CUSTOMER}
    assert user.email.value == "Ada@Example.com"
    assert user.password_hash != PASSWORD
    assert await users.get(user.id) == user


async def test_admin_cannot_be_requested(
    users: FakeUserRepository, hasher: FakeHasher, clock: FakeClock
) -> None:
    with pytest.raises(InvalidField) as caught:
        await Accounts(users, users.units, hasher, clock=clock).create_user(
            email="eve@example.com",
            password=PASSWORD,
            display_name="Eve",
            roles=[Role.CUSTOMER, Role.ADMIN],
        )
    assert caught.value.field == "roles"
    assert users.adds == 0


async def test_email_is_unique_regardless_of_case(
    users: FakeUserRepository, hasher: FakeHasher, clock: FakeClock, new_user: NewUser
) -> None:
    await new_user(email="ada@example.com")
    with pytest.raises(EmailTaken):
        await Accounts(users, users.units, hasher, clock=clock).create_user(
            email="ADA@example.COM", password=PASSWORD, display_name="Impostor"
        )
    assert users.adds == 1


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("email", {"email": "not-an-email"}),
        ("password", {"password": "short"}),
        ("display_name", {"display_name": "  "}),
    ],
)
async def test_invalid_input_names_the_field_and_stores_nothing(
    users: FakeUserRepository,
    hasher: FakeHasher,
    clock: FakeClock,
    field: str,
    changes: dict[str, str],
) -> None:
    request = {"email": "ada@example.com", "password": PASSWORD, "display_name": "Ada", **changes}
    with pytest.raises(InvalidField) as caught:
        await Accounts(users, users.units, hasher, clock=clock).create_user(
            email=request["email"],
            password=request["password"],
            display_name=request["display_name"],
        )
    assert caught.value.field == field
    assert users.adds == 0


async def test_right_password_returns_the_user(
    users: FakeUserRepository, hasher: FakeHasher, new_user: NewUser
) -> None:
    ada = await new_user(email="ada@example.com")
    assert (
        await Accounts(users, users.units, hasher).verify_credentials(
            email="ADA@example.com", password=PASSWORD
        )
        == ada
    )


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ],
)
async def test_wrong_credentials_fail_alike(
    users: FakeUserRepository, hasher: FakeHasher, new_user: NewUser, email: str, password: str
) -> None:
    await new_user(email="ada@example.com")
    with pytest.raises(InvalidCredentials) as caught:
        await Accounts(users, users.units, hasher).verify_credentials(
            email=email, password=password
        )
    assert caught.value.reason == "INVALID_CREDENTIALS"


async def test_unknown_email_spends_a_dummy_verification(
    users: FakeUserRepository, hasher: FakeHasher
) -> None:
    with pytest.raises(InvalidCredentials):
        await Accounts(users, users.units, hasher).verify_credentials(
            email="nobody@example.com", password=PASSWORD
        )
    assert hasher.dummy_verifications == 1


async def test_outdated_hash_is_replaced_on_login(
    users: FakeUserRepository, hasher: FakeHasher, new_user: NewUser
) -> None:
    ada = await new_user()
    users.users[ada.id] = replace(ada, password_hash=f"v1${PASSWORD}")
    await Accounts(users, users.units, hasher).verify_credentials(
        email=ada.email.value, password=PASSWORD
    )
    stored = await users.get(ada.id)
    assert stored is not None and stored.password_hash == f"v2${PASSWORD}"
    assert stored.version == ada.version
