"""SQLAlchemy 2 declarative tables of the basket service's own database.

The rows are persistence records, not the domain ``Basket``: the repository maps
between them.  ``Base.metadata`` is what Alembic's autogenerate compares against; the
schema itself is created by the migrations.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pkg.events import include_event_tables
from pkg.orm import service_metadata


class Base(DeclarativeBase):
    """Declarative base of the basket service's tables (``pkg.orm``: PostgreSQL's names)."""

    metadata = service_metadata()


class BasketRow(Base):
    """One basket; ``version`` backs the etag."""

    __tablename__ = "baskets"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    display_name: Mapped[str] = mapped_column(Text)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)


Index("baskets_create_time_id_idx", BasketRow.create_time.desc(), BasketRow.id.desc())


class IdempotencyKeyRow(Base):
    """A CreateBasket idempotency key (AIP-155): the caller's ``scope`` and
    ``request_id``, the request's ``fingerprint`` (``pkg.idempotency``) and the basket
    it created; live until ``expire_time``."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    request_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text)
    basket_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("baskets.id", ondelete="CASCADE"))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expire_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index("idempotency_keys_expire_time_idx", IdempotencyKeyRow.expire_time)


class StatisticsRow(Base):
    """The consumer's counts, one row per ``key`` (``created``: BasketCreated events)."""

    __tablename__ = "statistics"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


include_event_tables(Base.metadata)  # outbox (BasketCreated, ...), inbox
