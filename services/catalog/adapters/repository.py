"""The catalog service's ports on PostgreSQL: ``CatalogQueries`` (reads outside a
transaction) and the unit of work's repositories (``CatalogRepositories``), with
SQLAlchemy 2's asyncio ORM and psycopg 3."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.idempotency import IdempotencyKey
from pkg.paging import PageCursor
from pkg.uow import Aggregate
from services.catalog.adapters.orm import IdempotencyKeyRow, ProductRow, StatisticsRow
from services.catalog.domain import Product

CREATED = "created"
"""The ``statistics`` key of the count of ``ProductCreated`` events."""


def _to_domain(row: ProductRow) -> Product:
    return Product(
        id=row.id,
        display_name=row.display_name,
        create_time=row.create_time,
        update_time=row.update_time,
        version=row.version,
    )


def _to_row(product: Product) -> ProductRow:
    return ProductRow(
        id=product.id,
        display_name=product.display_name,
        create_time=product.create_time,
        update_time=product.update_time,
        version=product.version,
    )


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
    """See ``services.catalog.service.ports.CatalogQueries``: each read in one
    session of ``sessions``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, product_id: UUID) -> Product | None:
        """See ``CatalogQueries.get``."""
        async with self._sessions() as session:
            row = await session.get(ProductRow, product_id)
            return _to_domain(row) if row is not None else None

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """See ``CatalogQueries.get_idempotency_key``."""
        async with self._sessions() as session:
            row = await session.get(IdempotencyKeyRow, (scope, UUID(request_id)))
            return _key_to_domain(row) if row is not None else None

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[Product]:
        """See ``CatalogQueries.list_newest``."""
        query = (
            select(ProductRow)
            .order_by(ProductRow.create_time.desc(), ProductRow.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                tuple_(ProductRow.create_time, ProductRow.id) < tuple_(after.create_time, after.id)
            )
        async with self._sessions() as session:
            return [_to_domain(row) for row in await session.scalars(query)]

    async def created_count(self) -> int:
        """See ``CatalogQueries.created_count`` (0 before the first event)."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(StatisticsRow.count).where(StatisticsRow.key == CREATED)
            )
            return int(count or 0)


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
        """See ``ProductRepository.add``.  The rows are inserted in a savepoint: a unique
        violation of the key rolls back only it and is answered by reading the key again
        (a live record is the winner of a concurrent create)."""
        session = self._session
        if key is not None:
            await session.execute(
                delete(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.scope == key.scope,
                    IdempotencyKeyRow.request_id == UUID(key.request_id),
                    IdempotencyKeyRow.expire_time <= key.create_time,
                )
            )
        try:
            async with session.begin_nested():
                session.add(_to_row(product))
                await session.flush()
                if key is not None:
                    session.add(_key_to_row(key))
                    await session.flush()
        except IntegrityError:
            if key is None:
                raise
            row = await session.get(
                IdempotencyKeyRow, (key.scope, UUID(key.request_id)), populate_existing=True
            )
            held = None if row is None else _key_to_domain(row)
            if held is None or held.expired(key.create_time):
                raise
            return held
        self._seen(product)
        return None

    async def save(self, product: Product) -> None:
        """See ``ProductRepository.save``."""
        await self._session.execute(
            update(ProductRow)
            .where(ProductRow.id == product.id)
            .values(
                display_name=product.display_name,
                update_time=product.update_time,
                version=product.version,
            )
            .execution_options(synchronize_session=False)
        )
        self._seen(product)


class SqlStatistics:
    """See ``services.catalog.service.ports.StatisticsRepository``, in ``session``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count_created(self) -> None:
        """See ``StatisticsRepository.count_created`` (one upsert)."""
        statement = insert(StatisticsRow).values(key=CREATED, count=1)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[StatisticsRow.key], set_={"count": StatisticsRow.count + 1}
            )
        )


class SqlCatalogRepositories:
    """``CatalogRepositories`` of one unit of work, on its session."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self.products = SqlProductRepository(session, seen)
        self.statistics = SqlStatistics(session)
