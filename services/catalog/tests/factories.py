"""Test factories of the catalog service's products (after full-stack-fastapi-template's
``create_product()``)."""

from __future__ import annotations

from typing import Any

from google.type import money_pb2

from agora.catalog.v1 import catalog_pb2
from pkg.money import Money
from services.catalog.domain import ProductFields

CURRENCY = "EUR"
"""The test mesh's currency (``MeshSettings.currency`` defaults to it)."""


def product_fields(title: str = "Garden hose", **overrides: Any) -> ProductFields:
    """Valid fields of a product at EUR 12.50 with 5 in stock; ``overrides`` replace any."""
    values: dict[str, object] = {
        "title": title,
        "description": "Twenty metres of green rubber hose",
        "price": Money(CURRENCY, 1250),
        "stock_quantity": 5,
        "categories": ("garden",),
        **overrides,
    }
    return ProductFields(**values)  # type: ignore[arg-type]


def product_message(title: str = "Garden hose", **overrides: Any) -> catalog_pb2.Product:
    """A CreateProduct ``product`` at EUR 12.50 with 5 in stock; ``overrides`` replace
    fields (``price=money_pb2.Money(...)``)."""
    values: dict[str, object] = {
        "title": title,
        "description": "Twenty metres of green rubber hose",
        "price": money_pb2.Money(currency_code=CURRENCY, units=12, nanos=500_000_000),
        "stock_quantity": 5,
        "categories": ["garden"],
        **overrides,
    }
    return catalog_pb2.Product(**values)  # type: ignore[arg-type]
