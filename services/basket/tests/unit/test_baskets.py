"""The basket use cases with fakes: create (idempotent, only for active accounts), get,
list pages, update (field mask, etag), the events they commit, bad input."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from pkg.idempotency import IdempotencyKeyReused
from services.basket.domain import (
    AccountDisabled,
    BasketCreated,
    BasketNotFound,
    BasketUpdated,
    EtagMismatch,
    InvalidField,
)
from services.basket.service import Baskets
from services.basket.tests.fakes import FakeAccounts, FakeBasketRepository, FakeClock


@pytest.fixture
def repository() -> FakeBasketRepository:
    return FakeBasketRepository()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts() -> FakeAccounts:
    return FakeAccounts()


@pytest.fixture
def baskets(repository: FakeBasketRepository, accounts: FakeAccounts, clock: FakeClock) -> Baskets:
    return Baskets(repository, repository.units, accounts, clock=clock, key_ttl=timedelta(hours=1))


async def test_create_trims_the_display_name_and_get_finds_it(baskets: Baskets) -> None:
    created = await baskets.create_basket(display_name="  First  ")
    assert created.display_name == "First" and created.etag == 'W/"1"'
    assert await baskets.get_basket(created.id) == created


async def test_an_active_account_creates_and_is_asked_about_by_its_subject(
    baskets: Baskets, accounts: FakeAccounts, repository: FakeBasketRepository
) -> None:
    created = await baskets.create_basket(display_name="Mine", scope="alice")
    assert accounts.asked == ["alice"]
    assert repository.baskets == {created.id: created}


async def test_a_disabled_account_creates_nothing_not_even_a_replay(
    baskets: Baskets, accounts: FakeAccounts, repository: FakeBasketRepository
) -> None:
    request_id = uuid4()
    first = await baskets.create_basket(display_name="Before", request_id=request_id, scope="bob")
    accounts.disabled.add("bob")
    for again in (request_id, uuid4(), None):
        with pytest.raises(AccountDisabled) as caught:
            await baskets.create_basket(display_name="Before", request_id=again, scope="bob")
        assert caught.value.reason == "ACCOUNT_DISABLED"
    assert list(repository.baskets) == [first.id] and len(repository.unit.committed) == 1


async def test_get_of_an_unknown_id_is_not_found(baskets: Baskets) -> None:
    with pytest.raises(BasketNotFound):
        await baskets.get_basket(uuid4())


@pytest.mark.parametrize("display_name", ["", "   ", "x" * 101, "tab\there"])
async def test_a_bad_display_name_is_refused(baskets: Baskets, display_name: str) -> None:
    with pytest.raises(InvalidField) as caught:
        await baskets.create_basket(display_name=display_name)
    assert caught.value.field == "display_name"


async def test_a_replayed_request_id_returns_the_first_basket(
    baskets: Baskets, repository: FakeBasketRepository
) -> None:
    request_id = uuid4()
    first = await baskets.create_basket(display_name="A", request_id=request_id, scope="s")
    again = await baskets.create_basket(display_name="A", request_id=request_id, scope="s")
    assert again == first and repository.adds == 1


async def test_a_request_id_reused_for_another_request_is_refused(baskets: Baskets) -> None:
    request_id = uuid4()
    await baskets.create_basket(display_name="A", request_id=request_id, scope="s")
    with pytest.raises(IdempotencyKeyReused):
        await baskets.create_basket(display_name="B", request_id=request_id, scope="s")


async def test_request_ids_are_scoped_to_the_caller(
    baskets: Baskets, repository: FakeBasketRepository
) -> None:
    request_id = uuid4()
    first = await baskets.create_basket(display_name="A", request_id=request_id, scope="s")
    other = await baskets.create_basket(display_name="A", request_id=request_id, scope="t")
    assert other.id != first.id and repository.adds == 2


async def test_an_expired_request_id_counts_as_new(baskets: Baskets, clock: FakeClock) -> None:
    request_id = uuid4()
    first = await baskets.create_basket(display_name="A", request_id=request_id, scope="s")
    clock.current += timedelta(hours=2)
    again = await baskets.create_basket(display_name="A", request_id=request_id, scope="s")
    assert again.id != first.id


async def test_pages_walk_every_basket_newest_first_once(baskets: Baskets) -> None:
    created = [await baskets.create_basket(display_name=f"n{i}") for i in range(5)]
    seen, token = [], ""
    for _ in range(5):
        page = await baskets.list_baskets(requested_size=2, page_token=token)
        seen += page.baskets
        token = page.next_page_token
        if not token:
            break
    assert [w.id for w in seen] == [w.id for w in reversed(created)]


@pytest.mark.parametrize(
    ("size", "token", "field"), [(-1, "", "page_size"), (0, "not a token", "page_token")]
)
async def test_bad_paging_input_is_refused(
    baskets: Baskets, size: int, token: str, field: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        await baskets.list_baskets(requested_size=size, page_token=token)
    assert caught.value.field == field


async def test_create_commits_basket_created(
    baskets: Baskets, repository: FakeBasketRepository
) -> None:
    created = await baskets.create_basket(display_name="Evented")
    assert repository.unit.committed == [BasketCreated(created.id, "Evented")]
    subject, message = repository.unit.messages[0]
    assert subject == f"baskets/{created.id}"
    assert message.DESCRIPTOR.full_name == "agora.basket.v1.BasketCreated"


async def test_a_replay_commits_no_second_event(
    baskets: Baskets, repository: FakeBasketRepository
) -> None:
    request_id = uuid4()
    for _ in range(2):
        await baskets.create_basket(display_name="A", request_id=request_id, scope="s")
    assert len(repository.unit.committed) == 1


async def test_update_changes_the_named_field_and_commits_basket_updated(
    baskets: Baskets, repository: FakeBasketRepository
) -> None:
    created = await baskets.create_basket(display_name="Before")
    updated = await baskets.update_basket(
        created.id, display_name=" After ", fields=["display_name"], etag=created.etag
    )
    assert (updated.display_name, updated.etag) == ("After", 'W/"2"')
    assert updated.update_time > created.update_time
    assert await baskets.get_basket(created.id) == updated
    assert repository.unit.committed[-1] == BasketUpdated(created.id, "After", ("display_name",))


async def test_a_stale_etag_is_aborted_and_changes_nothing(
    baskets: Baskets, repository: FakeBasketRepository
) -> None:
    created = await baskets.create_basket(display_name="Kept")
    await baskets.update_basket(created.id, display_name="Second", fields=["display_name"])
    with pytest.raises(EtagMismatch):
        await baskets.update_basket(
            created.id, display_name="Lost", fields=["display_name"], etag=created.etag
        )
    assert (await baskets.get_basket(created.id)).display_name == "Second"
    assert len(repository.unit.committed) == 2


@pytest.mark.parametrize(
    ("fields", "display_name", "field"),
    [
        ([], "X", "update_mask"),
        (["etag"], "X", "update_mask"),
        (["display_name"], "", "display_name"),
    ],
)
async def test_a_bad_update_is_refused_naming_the_field(
    baskets: Baskets, fields: list[str], display_name: str, field: str
) -> None:
    created = await baskets.create_basket(display_name="A")
    with pytest.raises(InvalidField) as caught:
        await baskets.update_basket(created.id, display_name=display_name, fields=fields)
    assert caught.value.field == field


async def test_update_of_an_unknown_id_is_not_found(baskets: Baskets) -> None:
    with pytest.raises(BasketNotFound):
        await baskets.update_basket(uuid4(), display_name="X", fields=["display_name"])
