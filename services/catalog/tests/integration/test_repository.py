"""The catalog service's PostgreSQL adapters: round trip, idempotency keys, the AIP-160
filter over every field, orders and keyset pages, customers' visibility, the stock CHECK a
conditional decrement relies on, the GIN-indexed full-text document, and the outbox rows a
commit writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast
from uuid import uuid4

import pytest
from sqlalchemy import CursorResult, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from agora.catalog.v1 import catalog_events_pb2
from pkg.db import Reader, create_engine, session_factory
from pkg.errors import InvalidField
from pkg.events import OUTBOX, open_envelope
from pkg.filtering import ListRequest
from pkg.idempotency import IdempotencyKey
from pkg.money import Money
from services.catalog.adapters.orm import ProductRow
from services.catalog.adapters.repository import SqlCatalogQueries
from services.catalog.app import units_of_work
from services.catalog.domain import Product
from services.catalog.service import Products
from services.catalog.tests.factories import CURRENCY, product_fields
from services.catalog.tests.fakes import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE products, outbox, inbox CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def queries(migrated_database: str) -> AsyncIterator[SqlCatalogQueries]:
    reader = Reader(migrated_database, min_size=1, max_size=2)
    yield SqlCatalogQueries(reader, currency=CURRENCY)
    await reader.close()


@pytest.fixture
def products(sessions: async_sessionmaker[AsyncSession], queries: SqlCatalogQueries) -> Products:
    return Products(queries, units_of_work(sessions), clock=FakeClock())


def _new(clock: FakeClock, title: str = "A", **overrides: object) -> Product:
    return Product.create(id=uuid4(), fields=product_fields(title, **overrides), now=clock())


async def _add(
    sessions: async_sessionmaker[AsyncSession], product: Product, key: IdempotencyKey | None = None
) -> IdempotencyKey | None:
    async with units_of_work(sessions)() as uow:
        held = await uow.repositories.products.add(product, key=key)
        await uow.commit()
    return held


async def _titles(queries: SqlCatalogQueries, *, admin: bool = True, **request: str) -> list[str]:
    found, _ = await queries.list_products(ListRequest(page_size=100, **request), admin=admin)  # type: ignore[arg-type]
    return [p.title for p in found]


async def test_a_stored_product_reads_back_equal(
    sessions: async_sessionmaker[AsyncSession], queries: SqlCatalogQueries
) -> None:
    product = _new(FakeClock(), categories=("garden", "tools"))
    assert await _add(sessions, product) is None
    assert await queries.get(product.id) == product
    assert await queries.get(uuid4()) is None
    assert await queries.get_many([uuid4(), product.id]) == [product]


async def test_a_live_key_held_by_another_create_is_returned(
    sessions: async_sessionmaker[AsyncSession], queries: SqlCatalogQueries
) -> None:
    clock = FakeClock()
    first, second = _new(clock), _new(clock)
    key = IdempotencyKey.new(
        scope="s",
        request_id=str(uuid4()),
        fingerprint="f",
        resource_id=str(first.id),
        now=first.create_time,
        ttl=timedelta(hours=1),
    )
    assert await _add(sessions, first, key) is None
    race = IdempotencyKey.new(
        scope="s",
        request_id=key.request_id,
        fingerprint="f",
        resource_id=str(second.id),
        now=second.create_time,
    )
    assert await _add(sessions, second, race) == key
    assert await queries.get(second.id) is None


@pytest.fixture
async def shelf(products: Products) -> dict[str, Product]:
    """Four products: three active (hose, rake, kettle), one draft (lamp)."""
    made = {}
    for title, description, minor, categories in (
        ("Garden hose", "Twenty metres of green rubber", 1250, ("garden",)),
        ("Rake", "Steel teeth for autumn leaves", 2050, ("garden", "tools")),
        ("Kettle", "Boils water for a garden party", 3999, ("kitchen",)),
        ("Lamp", "A reading lamp", 1500, ("home",)),
    ):
        created = await products.create_product(
            product_fields(
                title,
                description=description,
                price=Money(CURRENCY, minor),
                categories=categories,
            )
        )
        made[title] = created if title == "Lamp" else await products.activate_product(created.id)
    return made


async def test_the_filter_reaches_every_field(
    shelf: dict[str, Product], queries: SqlCatalogQueries
) -> None:
    assert await _titles(queries, filter='categories:"garden"', order_by="price") == [
        "Garden hose",
        "Rake",
    ]
    assert await _titles(queries, filter="price >= 15 AND price < 20.50", order_by="price") == [
        "Lamp"
    ]
    assert await _titles(queries, filter='title = "Rake"') == ["Rake"]
    assert await _titles(queries, filter="leaves") == ["Rake"]
    assert await _titles(queries, filter='text:"gardens"', order_by="price") == [
        "Garden hose",
        "Kettle",
    ]
    assert await _titles(queries, filter="state = STATE_DRAFT") == ["Lamp"]
    created = shelf["Rake"].create_time.isoformat()
    assert await _titles(queries, filter=f'create_time > "{created}"') == ["Lamp", "Kettle"]


async def test_customers_see_active_products_and_cannot_filter_by_state(
    shelf: dict[str, Product], queries: SqlCatalogQueries
) -> None:
    assert await _titles(queries, admin=False, order_by="price desc") == [
        "Kettle",
        "Rake",
        "Garden hose",
    ]
    with pytest.raises(InvalidField) as caught:
        await _titles(queries, admin=False, filter="state = STATE_DRAFT")
    assert caught.value.field == "filter"


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"filter": "price >"}, "filter"),
        ({"filter": "price < 1.001"}, "filter"),
        ({"filter": "colour = red"}, "filter"),
        ({"order_by": "title"}, "order_by"),
        ({"page_token": "not-a-token"}, "page_token"),
    ],
)
async def test_bad_listings_name_their_field(
    queries: SqlCatalogQueries, request_fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        await queries.list_products(ListRequest(**request_fields), admin=True)
    assert caught.value.field == field


async def test_pages_follow_on_and_a_token_binds_to_its_query(
    shelf: dict[str, Product], queries: SqlCatalogQueries
) -> None:
    first, token = await queries.list_products(
        ListRequest(page_size=2, order_by="price"), admin=True
    )
    assert [p.title for p in first] == ["Garden hose", "Lamp"] and token
    rest, last = await queries.list_products(
        ListRequest(page_size=2, order_by="price", page_token=token), admin=True
    )
    assert [p.title for p in rest] == ["Rake", "Kettle"] and last == ""
    with pytest.raises(InvalidField) as caught:
        await queries.list_products(
            ListRequest(page_size=2, order_by="price desc", page_token=token), admin=True
        )
    assert caught.value.field == "page_token"


async def test_stock_never_goes_below_zero(
    sessions: async_sessionmaker[AsyncSession], shelf: dict[str, Product]
) -> None:
    product_id = shelf["Rake"].id
    take = (
        update(ProductRow)
        .where(ProductRow.id == product_id, ProductRow.stock_quantity >= 3)
        .values(stock_quantity=ProductRow.stock_quantity - 3)
    )
    async with sessions() as session, session.begin():
        assert cast(CursorResult[Any], await session.execute(take)).rowcount == 1
        assert cast(CursorResult[Any], await session.execute(take)).rowcount == 0
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await session.execute(
                update(ProductRow).where(ProductRow.id == product_id).values(stock_quantity=-1)
            )


async def test_text_search_can_use_the_gin_index(
    sessions: async_sessionmaker[AsyncSession], shelf: dict[str, Product]
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            await session.scalars(
                text(
                    "EXPLAIN SELECT id FROM products "
                    "WHERE search @@ plainto_tsquery('english'::regconfig, 'garden')"
                )
            )
        )
    assert "products_search_idx" in plan


async def test_writes_commit_their_events_to_the_outbox(
    sessions: async_sessionmaker[AsyncSession], products: Products, queries: SqlCatalogQueries
) -> None:
    created = await products.create_product(product_fields("Outboxed"))
    await products.update_product(created.id, {"stock_quantity": 9}, etag=created.etag)
    cheaper = Money(CURRENCY, 999)
    updated = await products.update_product(created.id, {"price": cheaper})
    archived = await products.archive_product(created.id)
    assert await queries.get(created.id) == archived and updated.price == cheaper
    async with sessions() as session:
        rows = (
            await session.execute(
                select(OUTBOX.c.type, OUTBOX.c.subject, OUTBOX.c.envelope).order_by(
                    OUTBOX.c.sequence
                )
            )
        ).all()
    name = f"products/{created.id}"
    assert [(row.type, row.subject) for row in rows] == [
        ("agora.catalog.v1.ProductCreated", name),
        ("agora.catalog.v1.ProductPriceChanged", name),
        ("agora.catalog.v1.ProductArchived", name),
    ]
    payload = catalog_events_pb2.ProductPriceChanged()
    assert open_envelope(rows[1].envelope).payload.Unpack(payload)
    assert (payload.price.units, payload.previous_price.units) == (9, 12)
