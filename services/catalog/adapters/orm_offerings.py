"""SQLAlchemy 2 declarative tables of service offerings, on the catalog service's ``Base``.

Persistence records, not the domain types: ``adapters.offerings`` maps between them.  The
schema is created by migration 0003.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.adapters.orm import Base


class OfferingRow(Base):
    """One offering; ``version`` backs the etag."""

    __tablename__ = "offerings"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)


Index("offerings_title_id_idx", OfferingRow.title, OfferingRow.id)


class ProviderOfferingRow(Base):
    """Provider ``provider_id`` (a user id of the user service: no foreign key across
    services) performs offering ``offering_id``; deleted with the offering."""

    __tablename__ = "provider_offerings"

    provider_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    offering_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("offerings.id", ondelete="CASCADE"), primary_key=True
    )
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index(
    "provider_offerings_provider_time_idx",
    ProviderOfferingRow.provider_id,
    ProviderOfferingRow.create_time,
    ProviderOfferingRow.offering_id,
)
Index(
    "provider_offerings_offering_time_idx",
    ProviderOfferingRow.offering_id,
    ProviderOfferingRow.create_time,
    ProviderOfferingRow.provider_id,
)


class OfferingKeyRow(Base):
    """A CreateOffering idempotency key (AIP-155): the caller's ``scope`` and
    ``request_id``, the request's ``fingerprint`` and the offering it created; live until
    ``expire_time``."""

    __tablename__ = "offering_idempotency_keys"

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    request_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text)
    offering_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("offerings.id", ondelete="CASCADE"))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expire_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index("offering_idempotency_keys_expire_time_idx", OfferingKeyRow.expire_time)
