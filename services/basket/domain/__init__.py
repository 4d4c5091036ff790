"""The basket service's domain: baskets, their events and their errors."""

from pkg.errors import InvalidField
from services.basket.domain.errors import AccountDisabled, BasketNotFound, EtagMismatch
from services.basket.domain.events import BasketCreated, BasketEvent, BasketUpdated
from services.basket.domain.model import Basket, parse_display_name

__all__ = [
    "AccountDisabled",
    "Basket",
    "BasketCreated",
    "BasketEvent",
    "BasketNotFound",
    "BasketUpdated",
    "EtagMismatch",
    "InvalidField",
    "parse_display_name",
]
