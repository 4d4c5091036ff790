"""The basket service's use cases (``Baskets``, ``Statistics``) and their ports."""

from pkg.paging import PageCursor
from services.basket.service.baskets import UPDATABLE_FIELDS, BasketPage, Baskets
from services.basket.service.ports import (
    Accounts,
    BasketQueries,
    BasketRepositories,
    BasketRepository,
    BasketUnitOfWork,
    StatisticsRepository,
)
from services.basket.service.statistics import Statistics

__all__ = [
    "UPDATABLE_FIELDS",
    "Accounts",
    "BasketPage",
    "BasketQueries",
    "BasketRepositories",
    "BasketRepository",
    "BasketUnitOfWork",
    "Baskets",
    "PageCursor",
    "Statistics",
    "StatisticsRepository",
]
