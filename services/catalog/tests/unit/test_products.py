"""The product use cases with fakes: create (idempotent, only for active accounts), get,
list pages, update (field mask, etag), the events they commit, bad input."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from pkg.idempotency import IdempotencyKeyReused
from services.catalog.domain import (
    AccountDisabled,
    EtagMismatch,
    InvalidField,
    ProductCreated,
    ProductNotFound,
    ProductUpdated,
)
from services.catalog.service import Products
from services.catalog.tests.fakes import FakeAccounts, FakeClock, FakeProductRepository


@pytest.fixture
def repository() -> FakeProductRepository:
    return FakeProductRepository()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts() -> FakeAccounts:
    return FakeAccounts()


@pytest.fixture
def products(
    repository: FakeProductRepository, accounts: FakeAccounts, clock: FakeClock
) -> Products:
    return Products(repository, repository.units, accounts, clock=clock, key_ttl=timedelta(hours=1))


async def test_create_trims_the_display_name_and_get_finds_it(products: Products) -> None:
    created = await products.create_product(display_name="  First  ")
    assert created.display_name == "First" and created.etag == 'W/"1"'
    assert await products.get_product(created.id) == created


async def test_an_active_account_creates_and_is_asked_about_by_its_subject(
    products: Products, accounts: FakeAccounts, repository: FakeProductRepository
) -> None:
    created = await products.create_product(display_name="Mine", scope="alice")
    assert accounts.asked == ["alice"]
    assert repository.products == {created.id: created}


async def test_a_disabled_account_creates_nothing_not_even_a_replay(
    products: Products, accounts: FakeAccounts, repository: FakeProductRepository
) -> None:
    request_id = uuid4()
    first = await products.create_product(display_name="Before", request_id=request_id, scope="bob")
    accounts.disabled.add("bob")
    for again in (request_id, uuid4(), None):
        with pytest.raises(AccountDisabled) as caught:
            await products.create_product(display_name="Before", request_id=again, scope="bob")
        assert caught.value.reason == "ACCOUNT_DISABLED"
    assert list(repository.products) == [first.id] and len(repository.unit.committed) == 1


async def test_get_of_an_unknown_id_is_not_found(products: Products) -> None:
    with pytest.raises(ProductNotFound):
        await products.get_product(uuid4())


@pytest.mark.parametrize("display_name", ["", "   ", "x" * 101, "tab\there"])
async def test_a_bad_display_name_is_refused(products: Products, display_name: str) -> None:
    with pytest.raises(InvalidField) as caught:
        await products.create_product(display_name=display_name)
    assert caught.value.field == "display_name"


async def test_a_replayed_request_id_returns_the_first_product(
    products: Products, repository: FakeProductRepository
) -> None:
    request_id = uuid4()
    first = await products.create_product(display_name="A", request_id=request_id, scope="s")
    again = await products.create_product(display_name="A", request_id=request_id, scope="s")
    assert again == first and repository.adds == 1


async def test_a_request_id_reused_for_another_request_is_refused(products: Products) -> None:
    request_id = uuid4()
    await products.create_product(display_name="A", request_id=request_id, scope="s")
    with pytest.raises(IdempotencyKeyReused):
        await products.create_product(display_name="B", request_id=request_id, scope="s")


async def test_request_ids_are_scoped_to_the_caller(
    products: Products, repository: FakeProductRepository
) -> None:
    request_id = uuid4()
    first = await products.create_product(display_name="A", request_id=request_id, scope="s")
    other = await products.create_product(display_name="A", request_id=request_id, scope="t")
    assert other.id != first.id and repository.adds == 2


async def test_an_expired_request_id_counts_as_new(products: Products, clock: FakeClock) -> None:
    request_id = uuid4()
    first = await products.create_product(display_name="A", request_id=request_id, scope="s")
    clock.current += timedelta(hours=2)
    again = await products.create_product(display_name="A", request_id=request_id, scope="s")
    assert again.id != first.id


async def test_pages_walk_every_product_newest_first_once(products: Products) -> None:
    created = [await products.create_product(display_name=f"n{i}") for i in range(5)]
    seen, token = [], ""
    for _ in range(5):
        page = await products.list_products(requested_size=2, page_token=token)
        seen += page.products
        token = page.next_page_token
        if not token:
            break
    assert [w.id for w in seen] == [w.id for w in reversed(created)]


@pytest.mark.parametrize(
    ("size", "token", "field"), [(-1, "", "page_size"), (0, "not a token", "page_token")]
)
async def test_bad_paging_input_is_refused(
    products: Products, size: int, token: str, field: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        await products.list_products(requested_size=size, page_token=token)
    assert caught.value.field == field


async def test_create_commits_product_created(
    products: Products, repository: FakeProductRepository
) -> None:
    created = await products.create_product(display_name="Evented")
    assert repository.unit.committed == [ProductCreated(created.id, "Evented")]
    subject, message = repository.unit.messages[0]
    assert subject == f"products/{created.id}"
    assert message.DESCRIPTOR.full_name == "agora.catalog.v1.ProductCreated"


async def test_a_replay_commits_no_second_event(
    products: Products, repository: FakeProductRepository
) -> None:
    request_id = uuid4()
    for _ in range(2):
        await products.create_product(display_name="A", request_id=request_id, scope="s")
    assert len(repository.unit.committed) == 1


async def test_update_changes_the_named_field_and_commits_product_updated(
    products: Products, repository: FakeProductRepository
) -> None:
    created = await products.create_product(display_name="Before")
    updated = await products.update_product(
        created.id, display_name=" After ", fields=["display_name"], etag=created.etag
    )
    assert (updated.display_name, updated.etag) == ("After", 'W/"2"')
    assert updated.update_time > created.update_time
    assert await products.get_product(created.id) == updated
    assert repository.unit.committed[-1] == ProductUpdated(created.id, "After", ("display_name",))


async def test_a_stale_etag_is_aborted_and_changes_nothing(
    products: Products, repository: FakeProductRepository
) -> None:
    created = await products.create_product(display_name="Kept")
    await products.update_product(created.id, display_name="Second", fields=["display_name"])
    with pytest.raises(EtagMismatch):
        await products.update_product(
            created.id, display_name="Lost", fields=["display_name"], etag=created.etag
        )
    assert (await products.get_product(created.id)).display_name == "Second"
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
    products: Products, fields: list[str], display_name: str, field: str
) -> None:
    created = await products.create_product(display_name="A")
    with pytest.raises(InvalidField) as caught:
        await products.update_product(created.id, display_name=display_name, fields=fields)
    assert caught.value.field == field


async def test_update_of_an_unknown_id_is_not_found(products: Products) -> None:
    with pytest.raises(ProductNotFound):
        await products.update_product(uuid4(), display_name="X", fields=["display_name"])
