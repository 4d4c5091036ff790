"""The catalog service's use cases (``Products``) and their ports."""

from services.catalog.service.ports import (
    CatalogQueries,
    CatalogRepositories,
    CatalogUnitOfWork,
    ProductRepository,
)
from services.catalog.service.products import ProductPage, Products

__all__ = [
    "CatalogQueries",
    "CatalogRepositories",
    "CatalogUnitOfWork",
    "ProductPage",
    "ProductRepository",
    "Products",
]
