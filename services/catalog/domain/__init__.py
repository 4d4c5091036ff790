"""The catalog service's domain: products, their events and their errors."""

from pkg.errors import InvalidField
from services.catalog.domain.errors import AccountDisabled, EtagMismatch, ProductNotFound
from services.catalog.domain.events import ProductCreated, ProductEvent, ProductUpdated
from services.catalog.domain.model import Product, parse_display_name

__all__ = [
    "AccountDisabled",
    "EtagMismatch",
    "InvalidField",
    "Product",
    "ProductCreated",
    "ProductEvent",
    "ProductNotFound",
    "ProductUpdated",
    "parse_display_name",
]
