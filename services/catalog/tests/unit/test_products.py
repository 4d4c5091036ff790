"""The product use cases with fakes: create (DRAFT, idempotent), get and list as a
customer or an admin, batch get, update (changes, etag, price events), activate, archive,
the events they commit, bad fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from pkg.filtering import ListRequest
from pkg.idempotency import IdempotencyKeyReused
from pkg.money import Money
from services.catalog.domain import (
    EtagMismatch,
    InvalidField,
    ProductArchived,
    ProductCreated,
    ProductNotFound,
    ProductPriceChanged,
    ProductState,
    StateTransitionInvalid,
)
from services.catalog.service import Products
from services.catalog.tests.factories import CURRENCY, product_fields
from services.catalog.tests.fakes import FakeClock, FakeProductRepository


@pytest.fixture
def repository() -> FakeProductRepository:
    return FakeProductRepository()


@pytest.fixture
def products(repository: FakeProductRepository) -> Products:
    return Products(repository, repository.units, clock=FakeClock(), key_ttl=timedelta(hours=1))


async def test_a_created_product_is_a_draft_only_admins_see(
    products: Products, repository: FakeProductRepository
) -> None:
    created = await products.create_product(product_fields("  Hose  "))
    assert created.title == "Hose" and created.state is ProductState.DRAFT
    assert created.etag == 'W/"1"' and created.price == Money(CURRENCY, 1250)
    assert await products.get_product(created.id, admin=True) == created
    with pytest.raises(ProductNotFound):
        await products.get_product(created.id, admin=False)
    assert repository.unit.committed == [
        ProductCreated(created.id, "Hose", Money(CURRENCY, 1250), ProductState.DRAFT)
    ]


async def test_customers_list_active_products_only(products: Products) -> None:
    draft = await products.create_product(product_fields("Draft"))
    active = await products.activate_product(
        (await products.create_product(product_fields("Active"))).id
    )
    public = await products.list_products(ListRequest(), admin=False)
    every = await products.list_products(ListRequest(), admin=True)
    assert [p.id for p in public.products] == [active.id]
    assert {p.id for p in every.products} == {active.id, draft.id}


async def test_a_replayed_request_id_returns_the_product_it_created(
    products: Products, repository: FakeProductRepository
) -> None:
    request_id = uuid4()
    first = await products.create_product(product_fields(), request_id=request_id, scope="a")
    again = await products.create_product(product_fields(), request_id=request_id, scope="a")
    assert again == first and repository.adds == 1
    with pytest.raises(IdempotencyKeyReused):
        await products.create_product(
            product_fields(stock_quantity=6), request_id=request_id, scope="a"
        )
    other = await products.create_product(product_fields(), request_id=request_id, scope="b")
    assert other.id != first.id


async def test_a_new_price_records_price_changed_and_other_fields_do_not(
    products: Products, repository: FakeProductRepository
) -> None:
    created = await products.create_product(product_fields())
    cheaper = Money(CURRENCY, 999)
    changed = await products.update_product(
        created.id, {"price": cheaper, "stock_quantity": 7}, etag=created.etag
    )
    assert changed.price == cheaper and changed.stock_quantity == 7 and changed.etag == 'W/"2"'
    await products.update_product(created.id, {"title": "Hose"})
    await products.update_product(created.id, {"price": cheaper})
    assert repository.unit.committed[1:] == [
        ProductPriceChanged(created.id, cheaper, Money(CURRENCY, 1250))
    ]


async def test_a_stale_etag_is_refused_and_changes_nothing(
    products: Products, repository: FakeProductRepository
) -> None:
    created = await products.create_product(product_fields())
    await products.update_product(created.id, {"stock_quantity": 1})
    with pytest.raises(EtagMismatch):
        await products.update_product(created.id, {"stock_quantity": 2}, etag=created.etag)
    with pytest.raises(EtagMismatch):
        await products.archive_product(created.id, etag=created.etag)
    assert repository.products[created.id].stock_quantity == 1


async def test_an_empty_or_unknown_mask_is_refused(products: Products) -> None:
    created = await products.create_product(product_fields())
    for changes in ({}, {"state": ProductState.ACTIVE}):
        with pytest.raises(InvalidField) as caught:
            await products.update_product(created.id, changes)
        assert caught.value.field == "update_mask"


async def test_archiving_records_archived_once_and_forbids_activation(
    products: Products, repository: FakeProductRepository
) -> None:
    created = await products.activate_product((await products.create_product(product_fields())).id)
    archived = await products.archive_product(created.id)
    again = await products.archive_product(created.id)
    assert archived.state is ProductState.ARCHIVED and again.version == archived.version
    assert [e for e in repository.unit.committed if isinstance(e, ProductArchived)] == [
        ProductArchived(created.id)
    ]
    with pytest.raises(StateTransitionInvalid):
        await products.activate_product(created.id)
    with pytest.raises(ProductNotFound):
        await products.get_product(created.id, admin=False)


async def test_activating_twice_changes_nothing(products: Products) -> None:
    created = await products.create_product(product_fields())
    first = await products.activate_product(created.id)
    second = await products.activate_product(created.id, etag=first.etag)
    assert second == first and first.version == 2


async def test_batch_get_keeps_the_order_asked_and_leaves_out_unknown_ids(
    products: Products,
) -> None:
    a = await products.create_product(product_fields("A"))
    b = await products.create_product(product_fields("B"))
    found = await products.batch_get_products([b.id, uuid4(), a.id])
    assert [p.id for p in found] == [b.id, a.id]


async def test_unknown_products_are_not_found(products: Products) -> None:
    for call in (
        products.get_product(uuid4(), admin=True),
        products.activate_product(uuid4()),
        products.archive_product(uuid4()),
        products.update_product(uuid4(), {"title": "X"}),
    ):
        with pytest.raises(ProductNotFound):
            await call


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "tab\there"}, "title"),
        ({"description": "x" * 5001}, "description"),
        ({"price": Money(CURRENCY, 0)}, "price"),
        ({"price": Money(CURRENCY, -1)}, "price"),
        ({"stock_quantity": -1}, "stock_quantity"),
        ({"stock_quantity": 1_000_001}, "stock_quantity"),
        ({"categories": ("Garden",)}, "categories"),
        ({"categories": ("a", "a")}, "categories"),
        ({"categories": tuple(f"c{i}" for i in range(11))}, "categories"),
    ],
)
def test_bad_fields_are_refused_by_name(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        product_fields(**overrides)
    assert caught.value.field == field
