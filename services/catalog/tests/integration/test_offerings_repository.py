"""The offering adapters on PostgreSQL: racing creates of one request id and racing adds of
one link end as one row each, keyset pages by title hold under inserts, page tokens are
tied to their parent, and deleting an offering cascades to links and keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pkg.db import create_engine, session_factory
from pkg.errors import InvalidField
from pkg.filtering import ListRequest
from services.catalog.adapters.offerings import SqlOfferingQueries
from services.catalog.adapters.orm_offerings import OfferingKeyRow, ProviderOfferingRow
from services.catalog.app import offering_units
from services.catalog.service.offerings import Offerings
from services.catalog.tests.fakes import FakeClock
from services.catalog.tests.offering_fakes import FakeAccounts

pytestmark = pytest.mark.integration


@pytest.fixture
async def sessions(migrated_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = create_engine(migrated_database, pool_size=4)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE offerings CASCADE"))
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def offerings(sessions: async_sessionmaker[AsyncSession]) -> Offerings:
    return Offerings(
        SqlOfferingQueries(sessions), offering_units(sessions), FakeAccounts(), clock=FakeClock()
    )


async def _count(sessions: async_sessionmaker[AsyncSession], table: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_racing_creates_and_links_end_as_one_row_each(
    offerings: Offerings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    request_id = uuid4()
    created = await asyncio.gather(
        *(
            offerings.create_offering(
                title="Plumbing", description="", request_id=request_id, scope="admin"
            )
            for _ in range(4)
        )
    )
    assert len({item.id for item in created}) == 1
    provider = uuid4()
    links = await asyncio.gather(
        *(offerings.add_to_profile(provider, created[0].id, caller=provider) for _ in range(4))
    )
    assert len(set(links)) == 1 and await _count(sessions, ProviderOfferingRow) == 1

    await offerings.delete_offering(created[0].id)
    assert await _count(sessions, ProviderOfferingRow) == 0
    assert await _count(sessions, OfferingKeyRow) == 0


async def test_pages_by_title_hold_under_inserts_and_tokens_keep_to_their_parent(
    offerings: Offerings,
) -> None:
    for title in ("b", "d", "f", "h"):
        await offerings.create_offering(title=title, description="")
    first, token = await offerings.list_offerings(ListRequest(page_size=2))
    assert [item.title for item in first] == ["b", "d"]
    await offerings.create_offering(title="a", description="")
    await offerings.create_offering(title="e", description="")
    rest, last = await offerings.list_offerings(ListRequest(page_size=10, page_token=token))
    assert [item.title for item in rest] == ["e", "f", "h"] and last == ""

    offering = first[0]
    for _ in range(3):
        provider = uuid4()
        await offerings.add_to_profile(provider, offering.id, caller=provider)
    page, token = await offerings.list_of_offering(offering.id, ListRequest(page_size=2))
    assert len(page) == 2 and token
    with pytest.raises(InvalidField) as foreign:
        await offerings.list_of_offering(first[1].id, ListRequest(page_token=token))
    assert foreign.value.field == "page_token"
