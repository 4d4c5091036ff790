"""Filters, orders and keyset pages compiled by ``pkg.filtering`` run against a real
PostgreSQL table: each operator selects the expected rows, text search uses its GIN index,
and pages stay exact while rows are inserted between them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.rows import tuple_row
from sqlalchemy import (
    BigInteger,
    Column,
    Computed,
    DateTime,
    Index,
    MetaData,
    Table,
    Text,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from pkg.config import normalise_database_url
from pkg.db import Reader, create_engine
from pkg.errors import InvalidField
from pkg.filtering import (
    CompiledListing,
    EnumField,
    FilterSchema,
    IntegerField,
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

pytestmark = pytest.mark.integration

METADATA = MetaData()
PRODUCTS = Table(
    "products",
    METADATA,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("stock", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("categories", ARRAY(Text), nullable=False),
    Column("create_time", DateTime(timezone=True), nullable=False),
    Column(
        "search",
        TSVECTOR,
        Computed("to_tsvector('english', title || ' ' || description)", persisted=True),
    ),
    Index("products_search", "search", postgresql_using="gin"),
    Index("products_categories", "categories", postgresql_using="gin"),
)
SCHEMA = FilterSchema(
    fields=(
        StringField("title", PRODUCTS.c.title, sortable=True),
        MoneyField("price", PRODUCTS.c.price_minor, sortable=True),
        IntegerField("stock", PRODUCTS.c.stock),
        EnumField("state", PRODUCTS.c.state, {"ACTIVE": "active", "DRAFT": "draft"}),
        RepeatedStringField("categories", PRODUCTS.c.categories),
        TimestampField("create_time", PRODUCTS.c.create_time, sortable=True),
    ),
    primary_key=PrimaryKey(PRODUCTS.c.id, KeyKind.UUID),
    default_order="create_time desc",
    text=TextSearch(PRODUCTS.c.search, config="english", name="text"),
)
PUBLIC = SCHEMA.without("state")
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ROWS: list[dict[str, Any]] = [
    # title, description, price (cents), stock, state, categories, minutes after T0
    dict(
        title="Red running shoes",
        description="Light shoes for running",
        price_minor=4999,
        stock=3,
        state="active",
        categories=["shoes", "sport"],
        minutes=0,
    ),
    dict(
        title="Blue sandals",
        description="Open shoes for the beach",
        price_minor=1999,
        stock=0,
        state="active",
        categories=["shoes"],
        minutes=1,
    ),
    dict(
        title="Rain jacket",
        description="Keeps you dry while running",
        price_minor=8900,
        stock=7,
        state="draft",
        categories=["outerwear", "sport"],
        minutes=2,
    ),
    dict(
        title="Wool socks",
        description="Warm socks",
        price_minor=999,
        stock=40,
        state="active",
        categories=[],
        minutes=3,
    ),
    dict(
        title="Trail shoes",
        description="Grip on mud and rocks",
        price_minor=4999,
        stock=2,
        state="active",
        categories=["shoes", "sport"],
        minutes=4,
    ),
]


def _row(spec: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in spec.items() if k != "minutes"}
    row["id"] = uuid.uuid4()
    row["create_time"] = T0 + timedelta(minutes=spec["minutes"])
    return row


@pytest.fixture(scope="module")
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    name = f"agora_filtering_{uuid.uuid4().hex[:12]}"
    server = normalise_database_url(postgres_url).replace("postgresql+psycopg", "postgresql")
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as connection:
        await connection.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    engine = create_engine(
        normalise_database_url(urlsplit(server)._replace(path=f"/{name}").geturl()), pool_size=2
    )
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
        await connection.execute(insert(PRODUCTS), [_row(spec) for spec in ROWS])
    yield engine
    await engine.dispose()
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as connection:
        await connection.execute(f"DROP DATABASE {name} WITH (FORCE)")  # type: ignore[arg-type]


async def _titles(engine: AsyncEngine, filter_text: str, schema: FilterSchema = SCHEMA) -> set[str]:
    condition = schema.compile_filter(filter_text)
    statement = select(PRODUCTS.c.title)
    if condition is not None:
        statement = statement.where(condition)
    async with engine.connect() as connection:
        return set((await connection.scalars(statement)).all())


ALL = {spec["title"] for spec in ROWS}


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("", ALL),
        ('title = "Wool socks"', {"Wool socks"}),
        ('title != "Wool socks"', ALL - {"Wool socks"}),
        ('title < "C"', {"Blue sandals"}),
        ("price = 49.99", {"Red running shoes", "Trail shoes"}),
        ("price < 20", {"Blue sandals", "Wool socks"}),
        ("price <= 19.99", {"Blue sandals", "Wool socks"}),
        ("price > 49.99", {"Rain jacket"}),
        ("price >= 49.99 AND price < 100", {"Red running shoes", "Trail shoes", "Rain jacket"}),
        ("stock = 0", {"Blue sandals"}),
        ("stock >= 7", {"Rain jacket", "Wool socks"}),
        ("state = DRAFT", {"Rain jacket"}),
        ('state != "DRAFT"', ALL - {"Rain jacket"}),
        ('categories:"shoes"', {"Red running shoes", "Blue sandals", "Trail shoes"}),
        ("categories:sport categories:shoes", {"Red running shoes", "Trail shoes"}),
        ("categories:outerwear OR categories:shoes", ALL - {"Wool socks"}),
        ("-categories:shoes", {"Rain jacket", "Wool socks"}),
        ("NOT categories:shoes AND price < 10", {"Wool socks"}),
        ('create_time >= "2025-03-01T12:03:00Z"', {"Wool socks", "Trail shoes"}),
        ('create_time < "2025-03-01T13:01:00+01:00"', {"Red running shoes"}),
        ("running", {"Red running shoes", "Rain jacket"}),
        ("runs", {"Red running shoes", "Rain jacket"}),
        ("shoes running", {"Red running shoes"}),
        ('"running shoes"', {"Red running shoes"}),
        ('text:"warm"', {"Wool socks"}),
        ("running OR socks", {"Red running shoes", "Rain jacket", "Wool socks"}),
        ("shoes -running", {"Blue sandals", "Trail shoes"}),
        ("(price < 20 OR stock > 5) categories:sport", {"Rain jacket"}),
        ('title = "x\' OR 1=1 --"', set()),
    ],
)
async def test_each_operator_selects_the_expected_rows(
    engine: AsyncEngine, filter_text: str, expected: set[str]
) -> None:
    assert await _titles(engine, filter_text) == expected


@pytest.mark.parametrize(
    ("filter_text", "says"),
    [
        ("colour = red", "at character 1: unknown field 'colour'; filterable fields: categories,"),
        ("price < cheap", "at character 9: price takes an amount with at most 2 decimals, not"),
        ("price < 1.999", "not '1.999'"),
        ("price < 1e400", "price takes an amount"),
        ("stock > 1.5", "stock takes an integer"),
        ("stock > 99999999999999999999", "a 64-bit integer"),
        ("state = GONE", "state takes one of ACTIVE, DRAFT, not 'GONE'"),
        ("state < ACTIVE", "state takes != =, not <"),
        ("categories = shoes", "categories takes :, not ="),
        ("title:shoes", "title takes != < <= = > >=, not :"),
        ('create_time > "2025-03-01"', "an RFC 3339 timestamp with an offset"),
        ('create_time > "2025-03-01T12:00:00"', "an RFC 3339 timestamp with an offset"),
        ("text = x", "text takes :, not ="),
    ],
)
def test_a_filter_the_schema_cannot_take_is_invalid_with_a_clear_description(
    filter_text: str, says: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        SCHEMA.compile_filter(filter_text)
    assert caught.value.field == "filter" and caught.value.reason == "FILTER_INVALID"
    assert says in caught.value.violations[0].description, caught.value


def test_a_hidden_field_is_unknown_to_the_public_schema() -> None:
    assert SCHEMA.compile_filter("state = ACTIVE") is not None
    with pytest.raises(InvalidField) as caught:
        PUBLIC.compile_filter("state = ACTIVE")
    assert "unknown field 'state'" in caught.value.message
    assert "state" not in caught.value.message.split("filterable fields:")[1]


async def test_text_search_and_the_has_operator_use_their_gin_indexes(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SET enable_seqscan = off"))
        plans = []
        for filter_text in ["running shoes", "categories:sport"]:
            condition = SCHEMA.compile_filter(filter_text)
            assert condition is not None
            compiled = select(PRODUCTS.c.id).where(condition).compile(engine)
            rows = await connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
            plans.append("\n".join(row[0] for row in rows))
    assert "products_search" in plans[0], plans[0]
    assert "products_categories" in plans[1], plans[1]


COLUMNS = select(*(column for column in PRODUCTS.c if column.key != "search"))
"""What ``CompiledListing`` selects (title second)."""


@pytest.fixture(scope="module")
async def reader(engine: AsyncEngine) -> AsyncIterator[Reader]:
    reader = Reader(engine.url.render_as_string(hide_password=False), min_size=1, max_size=2)
    yield reader
    await reader.close()


@pytest.fixture(params=["plan_page", "CompiledListing"])
def way(request: pytest.FixtureRequest, reader: Reader) -> Reader | None:
    """How pages are read: ``plan_page`` in a SQLAlchemy connection, or one
    ``CompiledListing`` (its SQL reused page after page) through ``Reader``."""
    return reader if request.param == "CompiledListing" else None


async def _pages(
    engine: AsyncEngine,
    request: ListRequest,
    *,
    between: list[dict[str, Any]] | None = None,
    reader: Reader | None = None,
) -> list[list[str]]:
    pages: list[list[str]] = []
    token, inserts = "", list(between or [])
    listing = CompiledListing(PUBLIC, COLUMNS, listing="ListProducts", cache_size=2)
    for _ in range(20):
        asked = ListRequest(request.filter, request.order_by, request.page_size, token)
        if reader is not None:
            compiled = listing.page(asked)
            found = await reader.all(compiled.sql, compiled.params, tuple_row, prepare=None)
            kept, token = compiled.cut(found)
            pages.append([row[1] for row in kept])
        else:
            plan = plan_page(PUBLIC, asked, listing="ListProducts")
            async with engine.connect() as connection:
                rows = (await connection.execute(plan.apply(select(PRODUCTS)))).all()
            page, token = plan.cut(rows)
            pages.append([row.title for row in page])
        if inserts:
            async with engine.begin() as connection:
                await connection.execute(insert(PRODUCTS), [_row(inserts.pop(0))])
        if not token:
            return pages
    raise AssertionError("more pages than rows")


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("", ["Trail shoes", "Wool socks", "Rain jacket", "Blue sandals", "Red running shoes"]),
        (
            "create_time",
            ["Red running shoes", "Blue sandals", "Rain jacket", "Wool socks", "Trail shoes"],
        ),
        (
            "price desc, create_time desc",
            ["Rain jacket", "Trail shoes", "Red running shoes", "Blue sandals", "Wool socks"],
        ),
        (
            "price, title desc",
            ["Wool socks", "Blue sandals", "Trail shoes", "Red running shoes", "Rain jacket"],
        ),
        (
            "  title  asc ",
            ["Blue sandals", "Rain jacket", "Red running shoes", "Trail shoes", "Wool socks"],
        ),
    ],
)
async def test_pages_of_every_order_concatenate_to_the_whole_order(
    engine: AsyncEngine, way: Reader | None, order_by: str, expected: list[str]
) -> None:
    for size in (1, 2, 5):
        pages = await _pages(engine, ListRequest(order_by=order_by, page_size=size), reader=way)
        assert [title for page in pages for title in page][:5] == expected
        assert all(len(page) <= size for page in pages)


async def test_pages_neither_repeat_nor_skip_rows_while_rows_are_inserted(
    engine: AsyncEngine, way: Reader | None
) -> None:
    # Inserted between page reads: one sorts before the cursor (never seen), others after.
    newcomers = [
        dict(
            title=f"Newcomer {n}",
            description="new",
            price_minor=price,
            stock=1,
            state="active",
            categories=["new"],
            minutes=10 + n,
        )
        for n, price in enumerate([1, 99999, 4999, 5000])
    ]
    request = ListRequest(
        filter="price >= 10", order_by="price desc, create_time desc", page_size=2
    )
    pages = await _pages(engine, request, between=newcomers, reader=way)
    seen = [title for page in pages for title in page]
    assert len(seen) == len(set(seen))
    originals = [t for t in seen if not t.startswith("Newcomer")]
    assert originals == ["Rain jacket", "Trail shoes", "Red running shoes", "Blue sandals"]
    assert "Newcomer 1" not in seen  # inserted after page 1, sorts before its cursor
    assert "Newcomer 0" not in seen  # filtered out
    async with engine.begin() as connection:
        await connection.execute(PRODUCTS.delete().where(PRODUCTS.c.title.like("Newcomer%")))


async def test_a_page_token_only_works_with_the_query_that_issued_it(engine: AsyncEngine) -> None:
    first = plan_page(PUBLIC, ListRequest(filter="price < 60", page_size=1), listing="ListProducts")
    async with engine.connect() as connection:
        rows = (await connection.execute(first.apply(select(PRODUCTS)))).all()
    _, token = first.cut(rows)
    assert token
    same_query = ListRequest(filter=" price < 60 ", order_by="create_time desc", page_token=token)
    plan_page(PUBLIC, same_query, listing="ListProducts")
    for other in [
        ListRequest(filter="price < 70", page_token=token),
        ListRequest(filter="price < 60", order_by="price", page_token=token),
    ]:
        with pytest.raises(InvalidField) as caught:
            plan_page(PUBLIC, other, listing="ListProducts")
        assert caught.value.field == "page_token" and caught.value.reason == "PAGE_TOKEN_INVALID"
    with pytest.raises(InvalidField) as caught:
        plan_page(PUBLIC, ListRequest(filter="price < 60", page_token=token), listing="ListOrders")
    assert caught.value.field == "page_token"


@pytest.mark.parametrize(
    ("order_by", "says"),
    [
        ("colour", "item 1: cannot sort by 'colour'; sortable fields: create_time, price, title"),
        ("stock", "cannot sort by 'stock'"),
        ("price sideways", "item 1: price is followed by 'sideways', not desc or asc"),
        ("price,", "item 2 is empty"),
        ("price, price desc", "item 2: price is named twice"),
        ("a, b, c, d, e", "more than 4 fields"),
    ],
)
def test_a_bad_order_by_is_invalid_at_order_by(order_by: str, says: str) -> None:
    with pytest.raises(InvalidField) as caught:
        plan_page(PUBLIC, ListRequest(order_by=order_by), listing="ListProducts")
    assert caught.value.field == "order_by" and caught.value.reason == "ORDER_BY_INVALID"
    assert says in caught.value.violations[0].description


def test_a_negative_page_size_is_invalid() -> None:
    with pytest.raises(InvalidField) as caught:
        plan_page(PUBLIC, ListRequest(page_size=-1), listing="ListProducts")
    assert caught.value.field == "page_size"


async def test_a_compiled_listing_checks_every_request_and_keeps_no_failure(
    reader: Reader,
) -> None:
    listing = CompiledListing(PUBLIC, COLUMNS, listing="ListProducts", cache_size=1)
    first = listing.page(ListRequest(filter="price < 60", page_size=1))
    _, token = first.cut(await reader.all(first.sql, first.params, tuple_row, prepare=None))
    for bad, field in [
        (ListRequest(filter="price <"), "filter"),
        (ListRequest(filter="state = DRAFT"), "filter"),
        (ListRequest(order_by="stock"), "order_by"),
        (ListRequest(page_size=-1), "page_size"),
        (ListRequest(filter="price < 70", page_token=token), "page_token"),
        (ListRequest(filter="price < 60", page_size=1, page_token=token + "x"), "page_token"),
    ]:
        for _ in range(2):  # the second time is no cache hit either
            with pytest.raises(InvalidField) as caught:
                listing.page(bad)
            assert caught.value.field == field
    same = listing.page(ListRequest(filter="price < 60", page_size=1, page_token=token))
    assert "page_key_0" in same.sql and same.params["page_key_0"] is not None
    with pytest.raises(ValueError, match="not selected"):
        CompiledListing(PUBLIC, select(PRODUCTS.c.title), listing="ListProducts")
