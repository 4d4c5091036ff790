"""The catalog service's domain: products, their events and their errors."""

from pkg.errors import InvalidField
from services.catalog.domain.errors import (
    AccountDisabled,
    EtagMismatch,
    ProductNotFound,
    StateTransitionInvalid,
)
from services.catalog.domain.events import (
    ProductArchived,
    ProductCreated,
    ProductEvent,
    ProductPriceChanged,
    ProductState,
)
from services.catalog.domain.model import (
    UPDATABLE_FIELDS,
    Product,
    ProductFields,
    parse_categories,
    parse_description,
    parse_price,
    parse_stock,
    parse_title,
)

__all__ = [
    "UPDATABLE_FIELDS",
    "AccountDisabled",
    "EtagMismatch",
    "InvalidField",
    "Product",
    "ProductArchived",
    "ProductCreated",
    "ProductEvent",
    "ProductFields",
    "ProductNotFound",
    "ProductPriceChanged",
    "ProductState",
    "StateTransitionInvalid",
    "parse_categories",
    "parse_description",
    "parse_price",
    "parse_stock",
    "parse_title",
]
