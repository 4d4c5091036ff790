"""``RedisBasketStore`` on a real Redis: lines and totals, bounds checked in the scripts,
the sliding TTL, the catalog's events applied once, and a price change racing an add."""

from __future__ import annotations

import asyncio
import uuid
from uuid import UUID

import pytest
import redis.asyncio as redis

from services.basket.adapters.redis_baskets import RedisBasketStore
from services.basket.domain import (
    BasketLimit,
    CatalogProduct,
    EtagMismatch,
    InsufficientStock,
    ItemNotFound,
    ProductNotOnSale,
)
from services.basket.service import Baskets
from services.basket.tests.factories import catalog_product, eur

pytestmark = pytest.mark.integration


async def test_lines_totals_and_an_empty_basket(store: RedisBasketStore) -> None:
    owner = uuid.uuid4()
    assert (await store.get(owner)).lines == ()
    kettle, mug = catalog_product(price=1250), catalog_product(price=399, title="Mug")
    await store.add_item(owner, kettle, 2)
    basket = await store.add_item(owner, mug, 3)
    assert [(line.title, line.quantity) for line in basket.lines] == [("Kettle", 2), ("Mug", 3)]
    assert basket.total == eur(2 * 1250 + 3 * 399)
    assert basket.etag and basket.update_time and basket.expire_time
    again = await store.add_item(owner, kettle, 1)
    assert again.lines[0].quantity == 3 and again.etag != basket.etag
    assert await store.get(owner) == again


async def test_bounds_are_checked_in_the_script(store: RedisBasketStore) -> None:
    owner = uuid.uuid4()
    product = catalog_product(stock=1000)
    await store.add_item(owner, product, 99)
    with pytest.raises(BasketLimit):
        await store.add_item(owner, product, 1)
    with pytest.raises(BasketLimit):
        await store.set_quantity(owner, product.product_id, 100)
    with pytest.raises(InsufficientStock):
        await store.add_item(owner, catalog_product(stock=2), 3)
    for _ in range(49):
        await store.add_item(owner, catalog_product(), 1)
    with pytest.raises(BasketLimit):
        await store.add_item(owner, catalog_product(), 1)
    assert len((await store.get(owner)).lines) == 50


async def test_fifty_concurrent_adds_never_pass_the_line_bound(store: RedisBasketStore) -> None:
    owner, product = uuid.uuid4(), catalog_product(stock=1000)
    results = await asyncio.gather(
        *(store.add_item(owner, product, 3) for _ in range(50)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 33
    assert all(isinstance(r, BasketLimit) for r in results if isinstance(r, BaseException))
    assert (await store.get(owner)).lines[0].quantity == 99


async def test_quantity_remove_and_clear(store: RedisBasketStore) -> None:
    owner, product = uuid.uuid4(), catalog_product()
    with pytest.raises(ItemNotFound):
        await store.set_quantity(owner, product.product_id, 2)
    await store.add_item(owner, product, 1)
    assert (await store.set_quantity(owner, product.product_id, 7)).lines[0].quantity == 7
    other = catalog_product()
    await store.add_item(owner, other, 1)
    assert [
        line.product_id for line in (await store.remove_item(owner, other.product_id)).lines
    ] == [product.product_id]
    assert (await store.remove_item(owner, other.product_id)).lines != ()
    assert (await store.clear(owner)).lines == ()


async def test_a_checked_out_clear_keeps_a_basket_changed_since(store: RedisBasketStore) -> None:
    owner, product = uuid.uuid4(), catalog_product()
    seen = await store.add_item(owner, product, 1)
    changed = await store.add_item(owner, product, 1)
    assert (await store.clear(owner, etag=seen.etag)) == changed
    assert (await store.clear(owner, etag=changed.etag)).lines == ()
    assert (await store.clear(owner, etag=changed.etag)).lines == ()


async def test_every_change_slides_the_ttl(store: RedisBasketStore, client: redis.Redis) -> None:
    owner, product = uuid.uuid4(), catalog_product()
    await store.add_item(owner, product, 1)
    key = f"{store._prefix}b:{owner}"
    await client.pexpire(key, 1000)
    await store.set_quantity(owner, product.product_id, 2)
    assert await client.pttl(key) > 29 * 86400 * 1000


async def test_a_price_change_flags_the_line_once_until_acknowledged(
    store: RedisBasketStore,
) -> None:
    owner, product = uuid.uuid4(), catalog_product(price=1000)
    await store.add_item(owner, product, 2)
    event = str(uuid.uuid4())
    assert await store.price_changed(product.product_id, eur(1200), event_id=event) == 1
    assert await store.price_changed(product.product_id, eur(1500), event_id=event) is None
    basket = await store.get(owner)
    [line] = basket.lines
    assert (line.unit_price, line.catalog_unit_price, line.price_changed) == (
        eur(1000),
        eur(1200),
        True,
    )
    assert basket.has_changes and basket.total == eur(2000)
    with pytest.raises(EtagMismatch):
        await store.acknowledge(owner, etag="stale")
    acknowledged = await store.acknowledge(owner, etag=basket.etag)
    assert not acknowledged.has_changes and acknowledged.total == eur(2400)


async def test_an_archived_product_becomes_unavailable_and_goes_on_acknowledge(
    store: RedisBasketStore,
) -> None:
    owner, kept, archived = uuid.uuid4(), catalog_product(price=100), catalog_product(price=700)
    await store.add_item(owner, kept, 1)
    await store.add_item(owner, archived, 1)
    assert await store.archived(archived.product_id, event_id=str(uuid.uuid4())) == 1
    basket = await store.get(owner)
    assert [line.unavailable for line in basket.lines] == [False, True]
    assert basket.total == eur(100) and basket.has_changes
    with pytest.raises(ProductNotOnSale):
        await store.add_item(owner, archived, 1)
    assert [line.product_id for line in (await store.acknowledge(owner)).lines] == [kept.product_id]


class _RacingCatalog:
    """A catalog whose answer is read before a price change that is applied to the store
    before the add's script runs: the interleaving of a real race, made certain."""

    def __init__(self, store: RedisBasketStore, product: CatalogProduct, new_price: int) -> None:
        self._store, self._product, self._new_price = store, product, new_price

    async def product(self, product_id: UUID) -> CatalogProduct | None:
        await self._store.price_changed(
            product_id, eur(self._new_price), event_id=str(uuid.uuid4())
        )
        return self._product


@pytest.mark.parametrize("existing_line", [False, True])
async def test_a_price_change_racing_an_add_ends_flagged(
    store: RedisBasketStore, existing_line: bool
) -> None:
    owner, product = uuid.uuid4(), catalog_product(price=1000)
    if existing_line:
        await store.add_item(owner, product, 1)
        await store.remove_item(owner, catalog_product().product_id)
    baskets = Baskets(store, _RacingCatalog(store, product, 1300))
    basket = await baskets.add_item(owner, product.product_id, 1)
    [line] = basket.lines
    assert line.unit_price == eur(1000)
    assert line.price_changed and line.catalog_unit_price == eur(1300)
    assert basket.has_changes


async def test_a_price_back_to_the_lines_clears_the_flag(store: RedisBasketStore) -> None:
    owner, product = uuid.uuid4(), catalog_product(price=1000)
    await store.add_item(owner, product, 1)
    await store.price_changed(product.product_id, eur(900), event_id=str(uuid.uuid4()))
    await store.price_changed(product.product_id, eur(1000), event_id=str(uuid.uuid4()))
    assert not (await store.get(owner)).has_changes
