"""The catalog service's ports on PostgreSQL: ``CatalogQueries`` (reads outside a
transaction) and the unit of work's repositories (``CatalogRepositories``), with
SQLAlchemy 2's asyncio ORM and psycopg 3."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.filtering import (
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
    plan_page,
)
from pkg.idempotency import IdempotencyKey
from pkg.idempotency_sql import insert_once
from pkg.money import currency_exponent
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
    return IdempotencyKey(
        scope=row.scope,
        request_id=str(row.request_id),
        fingerprint=row.fingerprint,
        resource_id=str(row.product_id),
        create_time=row.create_time,
        expire_time=row.expire_time,
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


class SqlCatalogQueries:
    """See ``services.catalog.service.ports.CatalogQueries``: each read in one session of
    ``sessions``; prices are filtered in ``currency``'s major units."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, currency: str) -> None:
        self._sessions = sessions
        self._admin_schema = product_schema(currency)
        self._public_schema = self._admin_schema.without("state")

    async def get(self, product_id: UUID) -> Product | None:
        """See ``CatalogQueries.get``."""
        async with self._sessions() as session:
            row = await session.get(ProductRow, product_id)
            return _to_domain(row) if row is not None else None

    async def get_many(self, product_ids: Sequence[UUID]) -> list[Product]:
        """See ``CatalogQueries.get_many`` (one ``WHERE id = ANY(...)``)."""
        async with self._sessions() as session:
            rows = await session.scalars(select(ProductRow).where(ProductRow.id.in_(product_ids)))
            return [_to_domain(row) for row in rows]

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """See ``CatalogQueries.get_idempotency_key``."""
        async with self._sessions() as session:
            row = await session.get(IdempotencyKeyRow, (scope, UUID(request_id)))
            return _key_to_domain(row) if row is not None else None

    async def list_products(
        self, request: ListRequest, *, admin: bool
    ) -> tuple[list[Product], str]:
        """See ``CatalogQueries.list_products`` (``pkg.filtering.plan_page``)."""
        schema = self._admin_schema if admin else self._public_schema
        plan = plan_page(schema, request, listing=LISTING)
        statement = select(ProductRow)
        if not admin:
            statement = statement.where(ProductRow.state == ProductState.ACTIVE.value)
        async with self._sessions() as session:
            rows = (await session.scalars(plan.apply(statement))).all()
        page, token = plan.cut(rows)
        return [_to_domain(row) for row in page], token


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
