"""The basket use cases with fakes: whose basket a caller may use, and what the catalog
must say before a product goes into a basket."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from services.basket.domain import (
    Basket,
    CatalogProduct,
    InsufficientStock,
    NotAllowed,
    ProductNotFound,
    ProductNotOnSale,
)
from services.basket.service import Baskets, owner_of
from services.basket.tests.factories import catalog_product, eur


class FakeCatalog:
    """``Catalog`` over a dict of products."""

    def __init__(self, *products: CatalogProduct) -> None:
        self.products = {product.product_id: product for product in products}

    async def product(self, product_id: UUID) -> CatalogProduct | None:
        return self.products.get(product_id)


class RecordingStore:
    """The part of ``BasketStore`` that ``add_item`` uses: records what reached it."""

    def __init__(self) -> None:
        self.added: list[tuple[UUID, CatalogProduct, int]] = []

    async def add_item(self, owner: UUID, product: CatalogProduct, quantity: int) -> Basket:
        self.added.append((owner, product, quantity))
        return Basket(owner=owner, currency="EUR")


def test_a_caller_may_name_their_own_basket_only() -> None:
    subject = str(uuid.uuid4())
    assert owner_of("me", subject) == owner_of(subject, subject) == UUID(subject)
    with pytest.raises(NotAllowed):
        owner_of(str(uuid.uuid4()), subject)


@pytest.mark.parametrize(
    ("product", "quantity", "error"),
    [
        (catalog_product(on_sale=False), 1, ProductNotOnSale),
        (catalog_product(stock=2), 3, InsufficientStock),
    ],
)
async def test_the_catalog_must_have_the_product_on_sale_in_stock(
    product: CatalogProduct, quantity: int, error: type[Exception]
) -> None:
    store = RecordingStore()
    baskets = Baskets(store, FakeCatalog(product))  # type: ignore[arg-type]
    with pytest.raises(error):
        await baskets.add_item(uuid.uuid4(), product.product_id, quantity)
    with pytest.raises(ProductNotFound):
        await baskets.add_item(uuid.uuid4(), uuid.uuid4(), 1)
    assert store.added == []


async def test_the_catalogs_price_is_what_the_store_snapshots() -> None:
    store, product, owner = RecordingStore(), catalog_product(price=999, stock=5), uuid.uuid4()
    await Baskets(store, FakeCatalog(product)).add_item(owner, product.product_id, 5)  # type: ignore[arg-type]
    assert store.added == [(owner, product, 5)]
    assert store.added[0][1].price == eur(999)
