"""The offering use cases with in-memory fakes: normalised creates replayed per request id,
masks and etags, deletes that take the links along, and providers held to their own
profile while their account is active."""

from __future__ import annotations

import uuid

import pytest

from pkg.errors import InvalidField, Unavailable
from pkg.filtering import ListRequest
from pkg.idempotency import IdempotencyKeyReused
from services.catalog.domain import AccountDisabled
from services.catalog.domain.offerings import (
    OfferingEtagMismatch,
    OfferingNotFound,
    ProviderNotCaller,
    ProviderOfferingNotFound,
)
from services.catalog.service.offerings import Offerings
from services.catalog.tests.fakes import FakeClock
from services.catalog.tests.offering_fakes import FakeAccounts, FakeOfferings


@pytest.fixture
def fake() -> FakeOfferings:
    return FakeOfferings()


@pytest.fixture
def accounts() -> FakeAccounts:
    return FakeAccounts()


@pytest.fixture
def offerings(fake: FakeOfferings, accounts: FakeAccounts) -> Offerings:
    return Offerings(fake, fake.units, accounts, clock=FakeClock())


async def test_create_normalises_and_a_replay_returns_the_same_offering(
    offerings: Offerings, fake: FakeOfferings
) -> None:
    request_id = uuid.uuid4()
    first = await offerings.create_offering(
        title=" Plumbing ", description="Leaks.\n", request_id=request_id, scope="a"
    )
    assert (first.title, first.description, first.etag) == ("Plumbing", "Leaks.", 'W/"1"')
    again = await offerings.create_offering(
        title="Plumbing", description="Leaks.", request_id=request_id, scope="a"
    )
    assert again == first and len(fake.offerings) == 1
    with pytest.raises(IdempotencyKeyReused):
        await offerings.create_offering(
            title="Moving", description="", request_id=request_id, scope="a"
        )
    other = await offerings.create_offering(
        title="Plumbing", description="Leaks.", request_id=request_id, scope="b"
    )
    assert other.id != first.id


@pytest.mark.parametrize(
    ("title", "description", "field"),
    [
        ("", "", "title"),
        ("x" * 201, "", "title"),
        ("a\x00b", "", "title"),
        ("ok", "\x07", "description"),
        ("ok", "d" * 5001, "description"),
    ],
)
async def test_bad_fields_are_refused_before_anything_is_written(
    offerings: Offerings, fake: FakeOfferings, title: str, description: str, field: str
) -> None:
    with pytest.raises(InvalidField) as bad:
        await offerings.create_offering(title=title, description=description)
    assert bad.value.field == field and fake.offerings == {} and fake.unit.commits == 0


async def test_update_follows_the_mask_and_refuses_a_stale_etag(offerings: Offerings) -> None:
    created = await offerings.create_offering(title="Moving", description="Vans.")
    changed = await offerings.update_offering(
        created.id,
        fields=["description"],
        title="ignored",
        description="Trucks.",
        etag=created.etag,
    )
    assert (changed.title, changed.description, changed.version) == ("Moving", "Trucks.", 2)
    with pytest.raises(OfferingEtagMismatch):
        await offerings.update_offering(
            created.id, fields=["title"], title="Late", etag=created.etag
        )
    with pytest.raises(InvalidField) as mask:
        await offerings.update_offering(created.id, fields=["create_time"])
    assert mask.value.field == "update_mask"
    with pytest.raises(OfferingNotFound):
        await offerings.update_offering(uuid.uuid4(), fields=["title"], title="X")


async def test_providers_add_once_only_to_their_own_profile_and_delete_cascades(
    offerings: Offerings, fake: FakeOfferings
) -> None:
    offering = await offerings.create_offering(title="Tutoring", description="")
    me, someone = uuid.uuid4(), uuid.uuid4()
    first = await offerings.add_to_profile(me, offering.id, caller=me)
    assert await offerings.add_to_profile(me, offering.id, caller=me) == first
    with pytest.raises(ProviderNotCaller):
        await offerings.add_to_profile(someone, offering.id, caller=me)
    with pytest.raises(OfferingNotFound):
        await offerings.add_to_profile(me, uuid.uuid4(), caller=me)
    assert (await offerings.list_of_offering(offering.id, ListRequest()))[0] == [first]
    assert (await offerings.list_of_provider(me, ListRequest()))[0] == [first]

    await offerings.delete_offering(offering.id)
    assert fake.links == {}
    with pytest.raises(OfferingNotFound):
        await offerings.list_of_offering(offering.id, ListRequest())
    with pytest.raises(ProviderOfferingNotFound):
        await offerings.remove_from_profile(me, offering.id, caller=me)
    with pytest.raises(ProviderNotCaller):
        await offerings.remove_from_profile(someone, offering.id, caller=me)


async def test_a_disabled_provider_can_neither_add_nor_remove_and_nothing_changes(
    offerings: Offerings, fake: FakeOfferings, accounts: FakeAccounts
) -> None:
    offering = await offerings.create_offering(title="Moving", description="")
    me = uuid.uuid4()
    link = await offerings.add_to_profile(me, offering.id, caller=me)
    commits = fake.unit.commits
    accounts.disabled.add(me)
    with pytest.raises(AccountDisabled) as refused:
        await offerings.add_to_profile(me, offering.id, caller=me)
    assert refused.value.metadata == {"user": f"users/{me}"}
    with pytest.raises(AccountDisabled):
        await offerings.remove_from_profile(me, offering.id, caller=me)
    assert fake.links == {(me, offering.id): link} and fake.unit.commits == commits
    assert accounts.asked == [me, me, me]

    accounts.disabled.clear()
    await offerings.remove_from_profile(me, offering.id, caller=me)
    assert fake.links == {}


async def test_the_user_service_down_refuses_profile_changes_but_not_reads(
    offerings: Offerings, fake: FakeOfferings, accounts: FakeAccounts
) -> None:
    offering = await offerings.create_offering(title="Tutoring", description="")
    me = uuid.uuid4()
    link = await offerings.add_to_profile(me, offering.id, caller=me)
    accounts.up = False
    with pytest.raises(Unavailable) as down:
        await offerings.add_to_profile(me, uuid.uuid4(), caller=me)
    assert down.value.reason == "USER_UNAVAILABLE"
    with pytest.raises(Unavailable):
        await offerings.remove_from_profile(me, offering.id, caller=me)
    assert fake.links == {(me, offering.id): link}
    assert (await offerings.list_of_provider(me, ListRequest()))[0] == [link]
    assert await offerings.get_offering(offering.id) == offering


async def test_another_providers_profile_is_refused_without_asking_the_user_service(
    offerings: Offerings, accounts: FakeAccounts
) -> None:
    offering = await offerings.create_offering(title="Plumbing", description="")
    me, someone = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(ProviderNotCaller):
        await offerings.add_to_profile(someone, offering.id, caller=me)
    with pytest.raises(ProviderNotCaller):
        await offerings.remove_from_profile(someone, offering.id, caller=me)
    assert accounts.asked == []
