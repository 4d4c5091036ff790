"""GetUser, UpdateUser and ListUsers use cases against in-memory fakes."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.user.domain import (
    Caller,
    EtagMismatch,
    InvalidField,
    NotAllowed,
    Role,
    User,
    UserNotFound,
)
from services.user.service import Profiles
from services.user.tests.fakes import FakeClock, FakeUserRepository
from services.user.tests.unit.conftest import NewUser


def _caller(user: User) -> Caller:
    return Caller(user.id, user.roles)


async def test_email_is_shown_to_the_user_and_admins_only(
    users: FakeUserRepository, new_user: NewUser
) -> None:
    ada, bob, admin = await new_user(), await new_user(), await new_user(roles=[Role.ADMIN])
    assert (await Profiles(users, users.units).get_user(_caller(ada), ada.id)).show_email
    assert (await Profiles(users, users.units).get_user(_caller(admin), ada.id)).show_email
    seen_by_bob = await Profiles(users, users.units).get_user(_caller(bob), ada.id)
    assert not seen_by_bob.show_email
    assert seen_by_bob.user.display_name == ada.display_name


async def test_unknown_user_is_not_found(users: FakeUserRepository, new_user: NewUser) -> None:
    ada = await new_user()
    with pytest.raises(UserNotFound):
        await Profiles(users, users.units).get_user(_caller(ada), uuid4())


async def test_user_renames_themself(
    users: FakeUserRepository, new_user: NewUser, clock: FakeClock
) -> None:
    ada = await new_user()
    view = await Profiles(users, users.units, clock=clock).update_profile(
        _caller(ada), ada.id, display_name="Countess", fields=["display_name"], etag=None
    )
    stored = await users.get(ada.id)
    assert stored is not None and stored.display_name == "Countess"
    assert view.user.etag == stored.etag != ada.etag
    assert stored.update_time > ada.update_time


async def test_customer_may_not_rename_someone_else(
    users: FakeUserRepository, new_user: NewUser, clock: FakeClock
) -> None:
    ada, bob = await new_user(), await new_user()
    with pytest.raises(NotAllowed):
        await Profiles(users, users.units, clock=clock).update_profile(
            _caller(bob), ada.id, display_name="Bob was here", fields=["display_name"], etag=None
        )
    assert (await users.get(ada.id)) == ada


async def test_admin_may_rename_anyone(
    users: FakeUserRepository, new_user: NewUser, clock: FakeClock
) -> None:
    ada, admin = await new_user(), await new_user(roles=[Role.ADMIN])
    view = await Profiles(users, users.units, clock=clock).update_profile(
        _caller(admin), ada.id, display_name="A. Lovelace", fields=["display_name"], etag=ada.etag
    )
    assert view.user.display_name == "A. Lovelace"


@pytest.mark.parametrize("fields", [[], ["email"], ["display_name", "roles"]])
async def test_update_mask_must_name_only_display_name(
    users: FakeUserRepository, new_user: NewUser, clock: FakeClock, fields: list[str]
) -> None:
    ada = await new_user()
    with pytest.raises(InvalidField) as caught:
        await Profiles(users, users.units, clock=clock).update_profile(
            _caller(ada), ada.id, display_name="X", fields=fields, etag=None
        )
    assert caught.value.field == "update_mask"
    assert (await users.get(ada.id)) == ada


async def test_stale_etag_aborts_and_changes_nothing(
    users: FakeUserRepository, new_user: NewUser, clock: FakeClock
) -> None:
    ada = await new_user()
    first = await Profiles(users, users.units, clock=clock).update_profile(
        _caller(ada), ada.id, display_name="One", fields=["display_name"], etag=ada.etag
    )
    with pytest.raises(EtagMismatch) as caught:
        await Profiles(users, users.units, clock=clock).update_profile(
            _caller(ada), ada.id, display_name="Two", fields=["display_name"], etag=ada.etag
        )
    assert caught.value.metadata["etag"] == first.user.etag
    stored = await users.get(ada.id)
    assert stored is not None and stored.display_name == "One"


async def test_list_is_for_admins(users: FakeUserRepository, new_user: NewUser) -> None:
    ada = await new_user()
    with pytest.raises(NotAllowed):
        await Profiles(users, users.units).list_users(_caller(ada), requested_size=0, page_token="")


async def test_list_pages_newest_first_without_gaps_or_repeats(
    users: FakeUserRepository, new_user: NewUser
) -> None:
    admin = await new_user(roles=[Role.ADMIN])
    for _ in range(6):
        await new_user()
    seen: list[User] = []
    token = ""
    pages = 0
    while True:
        page = await Profiles(users, users.units).list_users(
            _caller(admin), requested_size=3, page_token=token
        )
        seen += page.users
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert len(seen) == 7 == len({u.id for u in seen})
    assert [u.create_time for u in seen] == sorted((u.create_time for u in seen), reverse=True)


async def test_page_size_defaults_to_20_and_caps_at_100(
    users: FakeUserRepository, new_user: NewUser
) -> None:
    admin = await new_user(roles=[Role.ADMIN])
    for _ in range(104):
        await new_user()
    profiles = Profiles(users, users.units)
    assert (
        len((await profiles.list_users(_caller(admin), requested_size=0, page_token="")).users)
        == 20
    )
    assert (
        len((await profiles.list_users(_caller(admin), requested_size=500, page_token="")).users)
        == 100
    )


@pytest.mark.parametrize("token", ["garbage!", "bm90IGEgdG9rZW4", "MjAyNXxub3QtYS11dWlk"])
async def test_bad_page_token_names_the_field(
    users: FakeUserRepository, new_user: NewUser, token: str
) -> None:
    admin = await new_user(roles=[Role.ADMIN])
    with pytest.raises(InvalidField) as caught:
        await Profiles(users, users.units).list_users(
            _caller(admin), requested_size=0, page_token=token
        )
    assert caught.value.field == "page_token"
