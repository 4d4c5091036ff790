"""SQLAlchemy 2 declarative tables of the user service's own database.

The rows are persistence records, not the domain ``User``: the repository maps between
them, so the domain stays free of SQLAlchemy.  ``Base.metadata`` is what Alembic's
autogenerate compares against; the schema itself is created by the migrations.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, Text, Uuid, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pkg.events import include_event_tables
from pkg.orm import service_metadata

EMAIL_INDEX = "users_email_lower_key"
IDEMPOTENCY_EXPIRY_INDEX = "idempotency_keys_expire_time_idx"


class Base(DeclarativeBase):
    """Declarative base of the user service's tables (``pkg.orm``: PostgreSQL's names)."""

    metadata = service_metadata()


class UserRow(Base):
    """One user; ``roles`` holds ``Role`` values, ``state`` an ``AccountState`` value,
    ``version`` backs the etag."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("state IN ('active', 'disabled')", name="state"),)

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    password_hash: Mapped[str] = mapped_column(Text)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text, server_default="active")


Index(EMAIL_INDEX, func.lower(UserRow.email), unique=True)
Index("users_create_time_id_idx", UserRow.create_time.desc(), UserRow.id.desc())


class IdempotencyKeyRow(Base):
    """A CreateUser idempotency key (AIP-155): the caller's ``scope`` and ``request_id``,
    the request's ``fingerprint`` (``pkg.idempotency``) and the user it created.

    Live until ``expire_time``; expired rows are deleted by later creates (see
    ``SqlUserRepository.add``), found through ``expire_time``'s index.
    """

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    request_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text)
    user_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expire_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index(IDEMPOTENCY_EXPIRY_INDEX, IdempotencyKeyRow.expire_time)


include_event_tables(Base.metadata)  # outbox (UserCreated, ...), inbox
