"""SQLAlchemy 2 declarative tables of the catalog service's own database.

The rows are persistence records, not the domain ``Product``: the repository maps
between them.  ``Base.metadata`` is what Alembic's autogenerate compares against; the
schema itself is created by the migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pkg.events import include_event_tables
from pkg.money import Money
from pkg.money_sql import money_columns, money_composite
from pkg.orm import service_metadata

SEARCH_CONFIG = "english"
"""The text search configuration of the products' ``search`` document (stemmed English)."""

SEARCH_DOCUMENT = (
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, title), 'A') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, description), 'B')"
)
"""The generated ``search`` column's expression: title (weight A) and description (B)."""


class Base(DeclarativeBase):
    """Declarative base of the catalog service's tables (``pkg.orm``: PostgreSQL's names)."""

    metadata = service_metadata()


class ProductRow(Base):
    """One product; ``version`` backs the etag, ``search`` is the generated full-text
    document of title and description, ``stock_quantity`` never goes below 0 (a CHECK, so a
    conditional ``UPDATE ... WHERE stock_quantity >= n`` can take stock safely)."""

    __tablename__ = "products"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    price_currency, price_minor = money_columns("price")
    price: Mapped[Money] = money_composite("price")
    stock_quantity: Mapped[int] = mapped_column(
        BigInteger, CheckConstraint("stock_quantity >= 0", name="stock_quantity")
    )
    state: Mapped[str] = mapped_column(
        Text, CheckConstraint("state IN ('draft', 'active', 'archived')", name="state")
    )
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text))
    search: Mapped[Any] = mapped_column(TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)


Index("products_create_time_id_idx", ProductRow.create_time.desc(), ProductRow.id)
Index("products_price_minor_id_idx", ProductRow.price_minor, ProductRow.id)
Index("products_search_idx", ProductRow.search, postgresql_using="gin")
Index("products_categories_idx", ProductRow.categories, postgresql_using="gin")


class IdempotencyKeyRow(Base):
    """A CreateProduct idempotency key (AIP-155): the caller's ``scope`` and
    ``request_id``, the request's ``fingerprint`` (``pkg.idempotency``) and the product
    it created; live until ``expire_time``."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    request_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text)
    product_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("products.id", ondelete="CASCADE"))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expire_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index("idempotency_keys_expire_time_idx", IdempotencyKeyRow.expire_time)


include_event_tables(Base.metadata)  # outbox (ProductCreated, ...), inbox
