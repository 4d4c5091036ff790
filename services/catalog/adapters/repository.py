"""The catalog service's ports on PostgreSQL: ``CatalogQueries`` (reads outside a
transaction) and the unit of work's repositories (``CatalogRepositories``), with
SQLAlchemy 2's asyncio ORM and psycopg 3."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from psycopg.rows import args_row, tuple_row
from sqlalchemy import Text, Uuid, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from pkg.db import Reader, compile_query
from pkg.filtering import (
    CompiledListing,
    EnumField,
    FilterSchema,
    KeyKind,
    ListRequest,
    MoneyField,
    PrimaryKey,
    RepeatedStringField,
    StringField,
    TextSearch,
    TimestampField,
)
from pkg.idempotency import IdempotencyKey
from pkg.idempotency_sql import KEY_ROW, insert_once, key_of
from pkg.money import Money, currency_exponent
from pkg.uow import Aggregate
from services.catalog.adapters.orm import SEARCH_CONFIG, IdempotencyKeyRow, ProductRow
from services.catalog.domain import Product, ProductState

LISTING = "ListProducts"
"""The listing's name in page-token fingerprints and messages."""


def product_schema(currency: str) -> FilterSchema:
    """What ListProducts filters and sorts by (docs/adr/0030): ``categories`` (has),
    ``price`` (in major units of ``currency``, sortable), ``create_time`` (sortable),
    ``title``, ``state`` (``STATE_DRAFT``, ``STATE_ACTIVE``, ``STATE_ARCHIVED``), and
    free text (a bare term or ``text:"..."``) over title and description through the GIN
    indexed ``search`` column.  Default order ``create_time desc``.  Raises
    ``ValueError`` for an unknown ``currency``."""
    columns = ProductRow.__table__.c
    return FilterSchema(
        fields=(
            RepeatedStringField("categories", columns.categories),
            MoneyField(
                "price",
                columns.price_minor,
                exponent=currency_exponent(currency),
                sortable=True,
            ),
            TimestampField("create_time", columns.create_time, sortable=True),
            StringField("title", columns.title),
            EnumField("state", columns.state, {f"STATE_{s.name}": s.value for s in ProductState}),
        ),
        primary_key=PrimaryKey(columns.id, KeyKind.UUID),
        default_order="create_time desc",
        text=TextSearch(columns.search, config=SEARCH_CONFIG, name="text"),
    )


def _to_domain(row: ProductRow) -> Product:
    return Product(
        id=row.id,
        title=row.title,
        description=row.description,
        price=row.price,
        stock_quantity=row.stock_quantity,
        categories=tuple(row.categories),
        state=ProductState(row.state),
        create_time=row.create_time,
        update_time=row.update_time,
        version=row.version,
    )


def _values(product: Product) -> dict[str, object]:
    return {
        "title": product.title,
        "description": product.description,
        "price_currency": product.price.currency,
        "price_minor": product.price.minor_units,
        "stock_quantity": product.stock_quantity,
        "categories": list(product.categories),
        "state": product.state.value,
        "update_time": product.update_time,
        "version": product.version,
    }


def _key_to_domain(row: IdempotencyKeyRow) -> IdempotencyKey:
    return key_of(
        row.scope, row.request_id, row.fingerprint, row.product_id, row.create_time, row.expire_time
    )


def _key_to_row(key: IdempotencyKey) -> IdempotencyKeyRow:
    return IdempotencyKeyRow(
        scope=key.scope,
        request_id=UUID(key.request_id),
        fingerprint=key.fingerprint,
        product_id=UUID(key.resource_id),
        create_time=key.create_time,
        expire_time=key.expire_time,
    )


def _product(
    id: UUID,
    title: str,
    description: str,
    price_currency: str,
    price_minor: int,
    stock_quantity: int,
    state: str,
    categories: list[str],
    create_time: datetime,
    update_time: datetime,
    version: int,
) -> Product:
    return Product(
        id=id,
        title=title,
        description=description,
        price=Money(price_currency, price_minor),
        stock_quantity=stock_quantity,
        categories=tuple(categories),
        state=ProductState(state),
        create_time=create_time,
        update_time=update_time,
        version=version,
    )


_COLUMNS = ProductRow.__table__.c
_PRODUCTS = select(
    _COLUMNS.id,
    _COLUMNS.title,
    _COLUMNS.description,
    _COLUMNS.price_currency,
    _COLUMNS.price_minor,
    _COLUMNS.stock_quantity,
    _COLUMNS.state,
    _COLUMNS.categories,
    _COLUMNS.create_time,
    _COLUMNS.update_time,
    _COLUMNS.version,
)
"""A product's columns in ``_product``'s order (the search document stays in the database)."""
_GET = compile_query(_PRODUCTS.where(_COLUMNS.id == bindparam("id", type_=Uuid)))
_GET_MANY = compile_query(_PRODUCTS.where(_COLUMNS.id == any_(bindparam("ids", type_=ARRAY(Uuid)))))
_KEYS = IdempotencyKeyRow.__table__.c
_GET_KEY = compile_query(
    select(
        _KEYS.scope,
        _KEYS.request_id,
        _KEYS.fingerprint,
        _KEYS.product_id,
        _KEYS.create_time,
        _KEYS.expire_time,
    ).where(
        _KEYS.scope == bindparam("scope", type_=Text),
        _KEYS.request_id == bindparam("request_id", type_=Uuid),
    )
)
# Rows are passed positionally (``args_row``: no column names decoded per read).
_PRODUCT_ROW = args_row(_product)


class SqlCatalogQueries:
    """See ``services.catalog.service.ports.CatalogQueries``: every read is one statement
    through ``reader`` (psycopg directly, one round trip, no transaction), its SQL compiled
    from SQLAlchemy Core once (a listing: once per request shape, ``CompiledListing``), and
    rows made straight into domain objects; prices are filtered in ``currency``'s major
    units."""

    def __init__(self, reader: Reader, *, currency: str) -> None:
        self._reader = reader
        admin_schema = product_schema(currency)
        self._admin_listing = CompiledListing(admin_schema, _PRODUCTS, listing=LISTING)
        self._public_listing = CompiledListing(
            admin_schema.without("state"),
            _PRODUCTS.where(ProductRow.state == ProductState.ACTIVE.value),
            listing=LISTING,
        )

    async def get(self, product_id: UUID) -> Product | None:
        """See ``CatalogQueries.get``."""
        return await self._reader.first(_GET.sql, _GET.bind(id=product_id), _PRODUCT_ROW)

    async def get_many(self, product_ids: Sequence[UUID]) -> list[Product]:
        """See ``CatalogQueries.get_many`` (one ``WHERE id = ANY(...)``)."""
        return await self._reader.all(
            _GET_MANY.sql, _GET_MANY.bind(ids=list(product_ids)), _PRODUCT_ROW
        )

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """See ``CatalogQueries.get_idempotency_key``."""
        params = _GET_KEY.bind(scope=scope, request_id=UUID(request_id))
        return await self._reader.first(_GET_KEY.sql, params, KEY_ROW)

    async def list_products(
        self, request: ListRequest, *, admin: bool
    ) -> tuple[list[Product], str]:
        """See ``CatalogQueries.list_products`` (``pkg.filtering.CompiledListing``)."""
        listing = self._admin_listing if admin else self._public_listing
        page = listing.page(request)
        rows = await self._reader.all(page.sql, page.params, tuple_row, prepare=None)
        kept, token = page.cut(rows)
        return [_product(*row) for row in kept], token


class SqlProductRepository:
    """See ``services.catalog.service.ports.ProductRepository``: works in ``session``
    (the unit of work's) and hands every product it adds or saves to ``seen``, so the
    unit of work collects the events they recorded."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self._session = session
        self._seen = seen

    async def get_for_update(self, product_id: UUID) -> Product | None:
        """See ``ProductRepository.get_for_update`` (``SELECT ... FOR UPDATE``)."""
        row = await self._session.scalar(
            select(ProductRow)
            .where(ProductRow.id == product_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return None if row is None else _to_domain(row)

    async def add(
        self, product: Product, *, key: IdempotencyKey | None = None
    ) -> IdempotencyKey | None:
        """See ``ProductRepository.add`` (``pkg.idempotency_sql.insert_once``: a live
        record holding ``key`` is the winner of a concurrent create)."""
        row = ProductRow(id=product.id, create_time=product.create_time, **_values(product))
        key_row = None if key is None else _key_to_row(key)
        held = await insert_once(self._session, row, key_row, _key_to_domain)
        if held is None:
            self._seen(product)
        return held

    async def save(self, product: Product) -> None:
        """See ``ProductRepository.save``."""
        await self._session.execute(
            update(ProductRow)
            .where(ProductRow.id == product.id)
            .values(**_values(product))
            .execution_options(synchronize_session=False)
        )
        self._seen(product)


class SqlCatalogRepositories:
    """``CatalogRepositories`` of one unit of work, on its session."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self.products = SqlProductRepository(session, seen)
