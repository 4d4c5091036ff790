"""The catalog service's use cases (``Products``, ``Statistics``) and their ports."""

from pkg.paging import PageCursor
from services.catalog.service.ports import (
    Accounts,
    CatalogQueries,
    CatalogRepositories,
    CatalogUnitOfWork,
    ProductRepository,
    StatisticsRepository,
)
from services.catalog.service.products import UPDATABLE_FIELDS, ProductPage, Products
from services.catalog.service.statistics import Statistics

__all__ = [
    "UPDATABLE_FIELDS",
    "Accounts",
    "CatalogQueries",
    "CatalogRepositories",
    "CatalogUnitOfWork",
    "PageCursor",
    "ProductPage",
    "ProductRepository",
    "Products",
    "Statistics",
    "StatisticsRepository",
]
