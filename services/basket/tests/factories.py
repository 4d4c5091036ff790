"""Test factories of the basket service's domain values."""

from __future__ import annotations

import uuid

from pkg.money import Money
from services.basket.domain import CatalogProduct


def eur(minor_units: int) -> Money:
    """``minor_units`` euro cents."""
    return Money("EUR", minor_units)


def catalog_product(
    *, price: int = 1250, stock: int = 10, on_sale: bool = True, title: str = "Kettle"
) -> CatalogProduct:
    """A product as the catalog describes it (a fresh id; ``price`` in euro cents)."""
    return CatalogProduct(
        product_id=uuid.uuid4(),
        title=title,
        price=eur(price),
        stock_quantity=stock,
        on_sale=on_sale,
    )
