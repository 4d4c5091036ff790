"""SetUserRoles, DisableUser and EnableUser use cases against in-memory fakes: each change
commits the event it records, a no-op records none, and an admin cannot lock themself out."""

from __future__ import annotations

from uuid import uuid4

import pytest

from agora.user.v1 import user_events_pb2, user_pb2
from services.user.domain import (
    AccountDisabled,
    Caller,
    EtagMismatch,
    InvalidCredentials,
    NotAllowed,
    Role,
    SelfLockout,
    User,
    UserDisabled,
    UserEnabled,
    UserNotFound,
    UserRolesChanged,
)
from services.user.service import Accounts, Administration
from services.user.tests.conftest import PASSWORD
from services.user.tests.fakes import FakeClock, FakeHasher, FakeUserRepository
from services.user.tests.unit.conftest import NewUser


def _caller(user: User) -> Caller:
    return Caller(user.id, user.roles)


@pytest.fixture
def admin_of(users: FakeUserRepository, clock: FakeClock) -> Administration:
    return Administration(users.units, clock=clock)


async def test_granting_a_role_commits_roles_changed_and_a_new_etag(
    users: FakeUserRepository, admin_of: Administration, new_user: NewUser
) -> None:
    ada, admin = await new_user(), await new_user(roles=[Role.ADMIN])
    users.unit.committed.clear()

    changed = await admin_of.set_roles(
        _caller(admin), ada.id, [Role.CUSTOMER, Role.PROVIDER], etag=ada.etag
    )

    assert changed.roles == {Role.CUSTOMER, Role.PROVIDER} and changed.etag != ada.etag
    assert users.users[ada.id] == changed
    assert users.unit.committed == [UserRolesChanged(ada.id, changed.roles, ada.roles)]
    subject, message = users.unit.messages[-1]
    assert subject == f"users/{ada.id}"
    assert message == user_events_pb2.UserRolesChanged(
        user=subject,
        roles=[user_pb2.ROLE_CUSTOMER, user_pb2.ROLE_PROVIDER],
        previous_roles=[user_pb2.ROLE_CUSTOMER],
    )


async def test_the_same_roles_again_change_nothing_and_record_nothing(
    users: FakeUserRepository, admin_of: Administration, new_user: NewUser
) -> None:
    ada, admin = await new_user(), await new_user(roles=[Role.ADMIN])
    commits = users.unit.commits
    same = await admin_of.set_roles(_caller(admin), ada.id, [Role.CUSTOMER], etag=None)
    assert same.etag == ada.etag and users.unit.commits == commits


async def test_disable_then_enable_record_their_events_and_a_disabled_login_is_refused(
    users: FakeUserRepository, admin_of: Administration, new_user: NewUser, hasher: FakeHasher
) -> None:
    ada, admin = await new_user(), await new_user(roles=[Role.ADMIN])
    accounts = Accounts(users, users.units, hasher)
    users.unit.committed.clear()

    disabled = await admin_of.disable(_caller(admin), ada.id, etag=None)
    assert disabled.disabled
    assert await admin_of.disable(_caller(admin), ada.id, etag=None) == disabled
    with pytest.raises(AccountDisabled):
        await accounts.verify_credentials(email=ada.email.value, password=PASSWORD)
    with pytest.raises(InvalidCredentials):  # a wrong password learns nothing of the state
        await accounts.verify_credentials(email=ada.email.value, password="wrong" * 3)
    enabled = await admin_of.enable(_caller(admin), ada.id, etag=disabled.etag)
    assert not enabled.disabled
    assert (
        await accounts.verify_credentials(email=ada.email.value, password=PASSWORD)
    ).id == ada.id
    assert users.unit.committed == [UserDisabled(ada.id), UserEnabled(ada.id)]


async def test_an_admin_cannot_lock_themself_out(
    users: FakeUserRepository, admin_of: Administration, new_user: NewUser
) -> None:
    admin = await new_user(roles=[Role.ADMIN])
    with pytest.raises(SelfLockout):
        await admin_of.disable(_caller(admin), admin.id, etag=None)
    with pytest.raises(SelfLockout):
        await admin_of.set_roles(_caller(admin), admin.id, [Role.CUSTOMER], etag=None)
    kept = await admin_of.set_roles(
        _caller(admin), admin.id, [Role.ADMIN, Role.PROVIDER], etag=None
    )
    assert kept.roles == {Role.ADMIN, Role.PROVIDER}


async def test_a_stale_etag_aborts_and_changes_nothing(
    users: FakeUserRepository, admin_of: Administration, new_user: NewUser
) -> None:
    ada, admin = await new_user(), await new_user(roles=[Role.ADMIN])
    await admin_of.set_roles(_caller(admin), ada.id, [Role.PROVIDER], etag=ada.etag)
    commits = users.unit.commits
    with pytest.raises(EtagMismatch):
        await admin_of.disable(_caller(admin), ada.id, etag=ada.etag)
    assert not users.users[ada.id].disabled and users.unit.commits == commits


async def test_only_admins_change_accounts_and_unknown_users_are_not_found(
    admin_of: Administration, new_user: NewUser
) -> None:
    ada, bob, admin = await new_user(), await new_user(), await new_user(roles=[Role.ADMIN])
    with pytest.raises(NotAllowed):
        await admin_of.set_roles(_caller(bob), ada.id, [Role.PROVIDER], etag=None)
    with pytest.raises(NotAllowed):
        await admin_of.disable(_caller(bob), ada.id, etag=None)
    with pytest.raises(UserNotFound):
        await admin_of.enable(_caller(admin), uuid4(), etag=None)


async def test_every_event_a_user_records_maps_to_its_contract_message(
    users: FakeUserRepository, new_user: NewUser
) -> None:
    await new_user(display_name="Ada")
    subject, created = users.unit.messages[-1]
    assert isinstance(created, user_events_pb2.UserCreated)
    assert (created.user, created.display_name, list(created.roles)) == (
        subject,
        "Ada",
        [user_pb2.ROLE_CUSTOMER],
    )
