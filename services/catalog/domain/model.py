"""Products: the resource of the catalog service, and the checks on their fields.

Pure Python: no gRPC, no SQLAlchemy.  Instants are timezone-aware UTC ``datetime``s;
prices are ``pkg.money.Money`` (integer minor units).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from agora.catalog.v1.reasons import CatalogReason
from agora.errors.v1.reasons import SharedReason
from pkg.errors import InvalidField
from pkg.money import Money
from services.catalog.domain.errors import StateTransitionInvalid
from services.catalog.domain.events import (
    ProductArchived,
    ProductCreated,
    ProductPriceChanged,
    ProductState,
)

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
STOCK_MAX = 1_000_000
CATEGORIES_MAX = 10
_CATEGORY = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


def parse_title(text: str) -> str:
    """``text`` without surrounding whitespace; ``InvalidField`` (``title``,
    TITLE_INVALID) when that is empty, over 200 characters or holds control characters."""
    title = text.strip()
    if not title or len(title) > TITLE_MAX or not title.isprintable():
        raise InvalidField(
            "title",
            f"must be 1 to {TITLE_MAX} printable characters",
            reason=CatalogReason.TITLE_INVALID,
        )
    return title


def parse_description(text: str) -> str:
    """``text`` without surrounding whitespace; ``InvalidField`` (``description``) when it
    is over 5000 characters."""
    description = text.strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidField(
            "description",
            f"must be at most {DESCRIPTION_MAX} characters",
            reason=SharedReason.INVALID_FIELD,
        )
    return description


def parse_stock(quantity: int) -> int:
    """``quantity`` if within 0..1,000,000 units; ``InvalidField`` (``stock_quantity``,
    STOCK_INVALID) otherwise."""
    if not 0 <= quantity <= STOCK_MAX:
        raise InvalidField(
            "stock_quantity",
            f"must be within 0 and {STOCK_MAX:,}",
            reason=CatalogReason.STOCK_INVALID,
        )
    return quantity


def parse_categories(names: Iterable[str]) -> tuple[str, ...]:
    """The categories, in the order given; ``InvalidField`` (``categories``,
    CATEGORY_INVALID) unless at most 10 distinct lower-case words (``garden-tools``: a
    letter or digit, then up to 39 letters, digits or hyphens)."""
    categories = tuple(names)
    if (
        len(categories) > CATEGORIES_MAX
        or len(set(categories)) != len(categories)
        or not all(_CATEGORY.fullmatch(name) for name in categories)
    ):
        raise InvalidField(
            "categories",
            f"must be at most {CATEGORIES_MAX} distinct lower-case words "
            "(letters, digits and hyphens, up to 40 characters)",
            reason=CatalogReason.CATEGORY_INVALID,
        )
    return categories


def parse_price(price: Money) -> Money:
    """``price`` if more than zero; ``InvalidField`` (``price``, MONEY_NOT_POSITIVE)
    otherwise."""
    if not price.is_positive:
        raise InvalidField(
            "price", "must be more than zero", reason=SharedReason.MONEY_NOT_POSITIVE
        )
    return price


@dataclass(frozen=True)
class ProductFields:
    """The fields an admin writes (CreateProduct, UpdateProduct), checked on creation:
    ``InvalidField`` at ``title``, ``description``, ``price``, ``stock_quantity`` or
    ``categories`` (see the ``parse_*`` functions)."""

    title: str
    price: Money
    description: str = ""
    stock_quantity: int = 0
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", parse_title(self.title))
        object.__setattr__(self, "description", parse_description(self.description))
        object.__setattr__(self, "price", parse_price(self.price))
        object.__setattr__(self, "stock_quantity", parse_stock(self.stock_quantity))
        object.__setattr__(self, "categories", parse_categories(self.categories))


UPDATABLE_FIELDS = frozenset({"title", "description", "price", "stock_quantity", "categories"})
"""The fields UpdateProduct's mask may name (AIP-134)."""


@dataclass(frozen=True)
class Product:
    """A product.  ``version`` starts at 1 and grows with every change (the etag).

    Frozen: ``create`` and every change return a new ``Product`` carrying the past-tense
    events it recorded in ``events`` (``services.catalog.domain.events``), which the unit
    of work writes to the outbox when it commits; ``events`` takes no part in equality.
    """

    id: UUID
    title: str
    description: str
    price: Money
    stock_quantity: int
    categories: tuple[str, ...]
    state: ProductState
    create_time: datetime
    update_time: datetime
    version: int = 1
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(cls, *, id: UUID, fields: ProductFields, now: datetime) -> Product:
        """A new DRAFT product (version 1) that recorded ``ProductCreated``."""
        return cls(
            id=id,
            title=fields.title,
            description=fields.description,
            price=fields.price,
            stock_quantity=fields.stock_quantity,
            categories=fields.categories,
            state=ProductState.DRAFT,
            create_time=now,
            update_time=now,
            events=[ProductCreated(id, fields.title, fields.price, ProductState.DRAFT)],
        )

    @property
    def visible_to_customers(self) -> bool:
        """Whether customers may see (and buy) it: only ACTIVE products."""
        return self.state is ProductState.ACTIVE

    def updated(self, changes: Mapping[str, Any], now: datetime) -> Product:
        """A copy with ``changes`` (field -> new value, fields of ``UPDATABLE_FIELDS``, each
        checked by its ``parse_*``) applied, one version newer; a new price records
        ``ProductPriceChanged``.  Raises ``ValueError`` for a field outside
        ``UPDATABLE_FIELDS``."""
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        events = list(self.events)
        price = changes.get("price", self.price)
        if price != self.price:
            events.append(ProductPriceChanged(self.id, price, self.price))
        return replace(self, **changes, update_time=now, version=self.version + 1, events=events)

    def activated(self, now: datetime) -> Product:
        """ACTIVE: a DRAFT product one version newer, an ACTIVE one unchanged.  Raises
        ``StateTransitionInvalid`` (FAILED_PRECONDITION) for an ARCHIVED product."""
        if self.state is ProductState.ACTIVE:
            return self
        if self.state is ProductState.ARCHIVED:
            raise StateTransitionInvalid(self.state.value, "activated")
        return replace(self, state=ProductState.ACTIVE, update_time=now, version=self.version + 1)

    def archived(self, now: datetime) -> Product:
        """ARCHIVED, one version newer, having recorded ``ProductArchived``; an archived
        product is returned unchanged (archiving twice changes nothing)."""
        if self.state is ProductState.ARCHIVED:
            return self
        return replace(
            self,
            state=ProductState.ARCHIVED,
            update_time=now,
            version=self.version + 1,
            events=[*self.events, ProductArchived(self.id)],
        )

    @property
    def etag(self) -> str:
        """Weak entity tag of the current state (RFC 9110 8.8.3, AIP-154): ``W/"<version>"``."""
        return f'W/"{self.version}"'
