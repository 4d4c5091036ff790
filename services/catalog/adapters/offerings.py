"""The offering ports on PostgreSQL: ``OfferingQueries`` (reads outside a transaction) and
the unit of work's ``OfferingRepository``, with SQLAlchemy 2's asyncio ORM and psycopg 3.

Listings are ``pkg.filtering`` keyset pages (AIP-158): offerings by title then id,
a provider's links and an offering's links by creation instant then the other id.  The
parent's id is part of each link listing's name, so a page token of one provider (or
offering) is refused for another.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from sqlalchemy import Select, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pkg.filtering import (
    FilterSchema,
    KeyKind,
    ListRequest,
    PagePlan,
    PrimaryKey,
    StringField,
    TimestampField,
    plan_page,
)
from pkg.idempotency import IdempotencyKey
from pkg.idempotency_sql import insert_once, key_of
from pkg.uow import Aggregate
from services.catalog.adapters.orm_offerings import OfferingKeyRow, OfferingRow, ProviderOfferingRow
from services.catalog.domain.offerings import Offering, ProviderOffering

OFFERINGS = FilterSchema(
    fields=(
        StringField("title", OfferingRow.title.expression, sortable=True),
        TimestampField("create_time", OfferingRow.create_time.expression),
    ),
    primary_key=PrimaryKey(OfferingRow.id.expression, KeyKind.UUID),
    default_order="title",
)
"""ListOfferings: filter over title and create_time, ordered by title then id."""

_OF_PROVIDER = FilterSchema(
    fields=(
        TimestampField("create_time", ProviderOfferingRow.create_time.expression, sortable=True),
    ),
    primary_key=PrimaryKey(ProviderOfferingRow.offering_id.expression, KeyKind.UUID),
    default_order="create_time",
)
_OF_OFFERING = FilterSchema(
    fields=(
        TimestampField("create_time", ProviderOfferingRow.create_time.expression, sortable=True),
    ),
    primary_key=PrimaryKey(ProviderOfferingRow.provider_id.expression, KeyKind.UUID),
    default_order="create_time",
)


def _to_domain(row: OfferingRow) -> Offering:
    return Offering(
        id=row.id,
        title=row.title,
        description=row.description,
        create_time=row.create_time,
        update_time=row.update_time,
        version=row.version,
    )


def _link_to_domain(row: ProviderOfferingRow) -> ProviderOffering:
    return ProviderOffering(row.provider_id, row.offering_id, row.create_time)


def _key_to_domain(row: OfferingKeyRow) -> IdempotencyKey:
    return key_of(
        row.scope,
        row.request_id,
        row.fingerprint,
        row.offering_id,
        row.create_time,
        row.expire_time,
    )


class SqlOfferingQueries:
    """See ``services.catalog.service.offering_ports.OfferingQueries``: each read in one
    session of ``sessions``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, offering_id: UUID) -> Offering | None:
        """See ``OfferingQueries.get``."""
        async with self._sessions() as session:
            row = await session.get(OfferingRow, offering_id)
            return None if row is None else _to_domain(row)

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """See ``OfferingQueries.get_idempotency_key``."""
        async with self._sessions() as session:
            row = await session.get(OfferingKeyRow, (scope, UUID(request_id)))
            return None if row is None else _key_to_domain(row)

    async def list_offerings(self, request: ListRequest) -> tuple[list[Offering], str]:
        """See ``OfferingQueries.list_offerings``."""
        plan = plan_page(OFFERINGS, request, listing="ListOfferings")
        async with self._sessions() as session:
            rows = (await session.scalars(plan.apply(select(OfferingRow)))).all()
        page, token = plan.cut(rows)
        return [_to_domain(row) for row in page], token

    async def list_of_provider(
        self, provider_id: UUID, request: ListRequest
    ) -> tuple[list[ProviderOffering], str]:
        """See ``OfferingQueries.list_of_provider``."""
        plan = plan_page(_OF_PROVIDER, request, listing=f"ListProviderOfferings {provider_id}")
        query = select(ProviderOfferingRow).where(ProviderOfferingRow.provider_id == provider_id)
        return await self._links(plan, query)

    async def list_of_offering(
        self, offering_id: UUID, request: ListRequest
    ) -> tuple[list[ProviderOffering], str]:
        """See ``OfferingQueries.list_of_offering``."""
        plan = plan_page(_OF_OFFERING, request, listing=f"ListOfferingProviders {offering_id}")
        query = select(ProviderOfferingRow).where(ProviderOfferingRow.offering_id == offering_id)
        return await self._links(plan, query)

    async def _links(
        self, plan: PagePlan, query: Select[ProviderOfferingRow]
    ) -> tuple[list[ProviderOffering], str]:
        async with self._sessions() as session:
            rows = (await session.scalars(plan.apply(query))).all()
        page, token = plan.cut(rows)
        return [_link_to_domain(row) for row in page], token


class SqlOfferingRepository:
    """See ``services.catalog.service.offering_ports.OfferingRepository``: works in
    ``session`` (the unit of work's); ``seen`` is the unit of work's, for offerings'
    events (none yet)."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self._session = session
        self._seen = seen

    async def add(
        self, offering: Offering, *, key: IdempotencyKey | None = None
    ) -> IdempotencyKey | None:
        """See ``OfferingRepository.add`` (``pkg.idempotency_sql.insert_once``: a live
        record holding ``key`` is the winner of a concurrent create)."""
        key_row = None if key is None else _key_row(key)
        held = await insert_once(self._session, _offering_row(offering), key_row, _key_to_domain)
        if held is None:
            self._seen(offering)
        return held

    async def get_for_update(self, offering_id: UUID) -> Offering | None:
        """See ``OfferingRepository.get_for_update`` (``SELECT ... FOR UPDATE``)."""
        row = await self._session.scalar(
            select(OfferingRow)
            .where(OfferingRow.id == offering_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return None if row is None else _to_domain(row)

    async def save(self, offering: Offering) -> None:
        """See ``OfferingRepository.save``."""
        await self._session.execute(
            update(OfferingRow)
            .where(OfferingRow.id == offering.id)
            .values(
                title=offering.title,
                description=offering.description,
                update_time=offering.update_time,
                version=offering.version,
            )
            .execution_options(synchronize_session=False)
        )
        self._seen(offering)

    async def delete(self, offering_id: UUID) -> None:
        """See ``OfferingRepository.delete`` (links and keys go by ``ON DELETE CASCADE``)."""
        await self._session.execute(
            delete(OfferingRow)
            .where(OfferingRow.id == offering_id)
            .execution_options(synchronize_session=False)
        )

    async def link(self, link: ProviderOffering) -> ProviderOffering:
        """See ``OfferingRepository.link`` (``INSERT ... ON CONFLICT DO NOTHING``, then
        the stored row)."""
        await self._session.execute(
            insert(ProviderOfferingRow)
            .values(
                provider_id=link.provider_id,
                offering_id=link.offering_id,
                create_time=link.create_time,
            )
            .on_conflict_do_nothing(index_elements=["provider_id", "offering_id"])
        )
        row = await self._session.scalar(
            select(ProviderOfferingRow)
            .where(
                ProviderOfferingRow.provider_id == link.provider_id,
                ProviderOfferingRow.offering_id == link.offering_id,
            )
            .execution_options(populate_existing=True)
        )
        assert row is not None  # inserted or already there, in this transaction
        return _link_to_domain(row)

    async def unlink(self, provider_id: UUID, offering_id: UUID) -> bool:
        """See ``OfferingRepository.unlink``."""
        deleted = await self._session.scalars(
            delete(ProviderOfferingRow)
            .where(
                ProviderOfferingRow.provider_id == provider_id,
                ProviderOfferingRow.offering_id == offering_id,
            )
            .returning(ProviderOfferingRow.offering_id)
            .execution_options(synchronize_session=False)
        )
        return deleted.first() is not None


class SqlOfferingRepositories:
    """``OfferingRepositories`` of one unit of work, on its session."""

    def __init__(self, session: AsyncSession, seen: Callable[[Aggregate], None]) -> None:
        self.offerings = SqlOfferingRepository(session, seen)


def _offering_row(offering: Offering) -> OfferingRow:
    return OfferingRow(
        id=offering.id,
        title=offering.title,
        description=offering.description,
        create_time=offering.create_time,
        update_time=offering.update_time,
        version=offering.version,
    )


def _key_row(key: IdempotencyKey) -> OfferingKeyRow:
    return OfferingKeyRow(
        scope=key.scope,
        request_id=UUID(key.request_id),
        fingerprint=key.fingerprint,
        offering_id=UUID(key.resource_id),
        create_time=key.create_time,
        expire_time=key.expire_time,
    )
