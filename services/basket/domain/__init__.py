"""The basket service's domain: baskets, their lines, and their errors."""

from services.basket.domain.errors import (
    BasketLimit,
    EtagMismatch,
    InsufficientStock,
    ItemNotFound,
    NotAllowed,
    ProductNotFound,
    ProductNotOnSale,
)
from services.basket.domain.model import (
    LINE_QUANTITY_MAX,
    LINES_MAX,
    Basket,
    BasketLine,
    CatalogProduct,
)

__all__ = [
    "LINES_MAX",
    "LINE_QUANTITY_MAX",
    "Basket",
    "BasketLimit",
    "BasketLine",
    "CatalogProduct",
    "EtagMismatch",
    "InsufficientStock",
    "ItemNotFound",
    "NotAllowed",
    "ProductNotFound",
    "ProductNotOnSale",
]
