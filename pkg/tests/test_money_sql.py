"""``pkg.money_sql`` against a real PostgreSQL: amounts round-trip through two columns and
the CHECKs refuse what ``Money`` would not hold."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pkg.config import normalise_database_url
from pkg.db import create_engine
from pkg.money import MINOR_UNITS_MAX, Money
from pkg.money_sql import money_columns, money_composite
from pkg.orm import service_metadata

pytestmark = pytest.mark.integration


class _Base(DeclarativeBase):
    metadata = service_metadata()


class _Product(_Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    price_currency, price_minor = money_columns("price")
    price: Mapped[Money] = money_composite("price")


class _Basket(_Base):
    __tablename__ = "baskets"
    id: Mapped[int] = mapped_column(primary_key=True)
    total_currency, total_minor = money_columns("total", check="non_negative")
    total: Mapped[Money] = money_composite("total")


@pytest.fixture(scope="module")
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database holding the two tables."""
    name = f"agora_money_{uuid.uuid4().hex[:12]}"
    server = normalise_database_url(postgres_url).replace("postgresql+psycopg", "postgresql")
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as connection:
        await connection.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    engine = create_engine(
        normalise_database_url(urlsplit(server)._replace(path=f"/{name}").geturl()),
        connect_timeout=5,
    )
    async with engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    yield engine
    await engine.dispose()
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as connection:
        await connection.execute(f"DROP DATABASE {name} WITH (FORCE)")  # type: ignore[arg-type]


@pytest.fixture
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on empty tables."""
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE products, baskets"))
    return async_sessionmaker(engine, expire_on_commit=False)


async def test_amounts_round_trip_as_currency_and_minor_units(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    amounts = [Money("EUR", 1234), Money("JPY", 500), Money("KWD", MINOR_UNITS_MAX)]
    async with sessions.begin() as session:
        session.add_all(_Product(price=amount) for amount in amounts)
    async with sessions() as session:
        rows = (
            await session.execute(text("SELECT price_currency, price_minor FROM products"))
        ).all()
        loaded = (await session.scalars(select(_Product).order_by(_Product.id))).all()
    assert sorted(tuple(row) for row in rows) == sorted(
        (a.currency, a.minor_units) for a in amounts
    )
    assert [product.price for product in loaded] == amounts


async def test_queries_compare_the_composite(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        session.add(_Product(price=Money("EUR", 777)))
    async with sessions() as session:
        found = await session.scalar(select(_Product).where(_Product.price == Money("EUR", 777)))
    assert found is not None and found.price == Money("EUR", 777)


async def test_an_amount_is_changed_by_assigning_a_new_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        product = _Product(price=Money("EUR", 100))
        session.add(product)
    async with sessions.begin() as session:
        stored = await session.get_one(_Product, product.id)
        stored.price = stored.price * 3
    async with sessions() as session:
        minor = await session.scalar(
            text("SELECT price_minor FROM products WHERE id = :id"), {"id": product.id}
        )
    assert minor == 300


@pytest.mark.parametrize(
    ("currency", "minor", "constraint"),
    [
        ("EUR", 0, "products_price_minor_check"),
        ("EUR", -1, "products_price_minor_check"),
        ("eur", 1, "products_price_currency_check"),
        ("E1R", 1, "products_price_currency_check"),
    ],
)
async def test_the_checks_refuse_what_is_not_a_price(
    sessions: async_sessionmaker[AsyncSession], currency: str, minor: int, constraint: str
) -> None:
    with pytest.raises(IntegrityError) as caught:
        async with sessions.begin() as session:
            await session.execute(
                text("INSERT INTO products (price_currency, price_minor) VALUES (:c, :m)"),
                {"c": currency, "m": minor},
            )
    assert constraint in str(caught.value.orig)


async def test_a_non_negative_amount_may_be_zero_but_not_less(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        session.add(_Basket(total=Money.zero("EUR")))
    with pytest.raises(IntegrityError) as caught:
        async with sessions.begin() as session:
            session.add(_Basket(total=Money("EUR", -1)))
    assert "baskets_total_minor_check" in str(caught.value.orig)


async def test_columns_are_char_3_and_bigint_not_null(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        columns = (
            await connection.execute(
                text(
                    "SELECT column_name, data_type, character_maximum_length, is_nullable"
                    " FROM information_schema.columns WHERE table_name = 'products'"
                    " AND column_name LIKE 'price_%' ORDER BY column_name"
                )
            )
        ).all()
    assert [tuple(c) for c in columns] == [
        ("price_currency", "character", 3, "NO"),
        ("price_minor", "bigint", None, "NO"),
    ]


def test_only_the_two_checks_are_offered() -> None:
    with pytest.raises(ValueError, match="check must be one of"):
        money_columns("price", check="any")  # type: ignore[arg-type]
