"""SQLAlchemy 2 declarative tables of stock reservations, on the catalog service's ``Base``.

Persistence records, not the domain types: ``adapters.stock`` maps between them.  The
schema is created by migration 0004.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.adapters.orm import Base


class ReservationRow(Base):
    """One reservation; ``order_id`` is unique (one reservation per order: the
    idempotency key of ReserveStock)."""

    __tablename__ = "reservations"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    state: Mapped[str] = mapped_column(
        Text,
        CheckConstraint("state IN ('held', 'committed', 'released', 'expired')", name="state"),
    )
    expire_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index(
    "reservations_held_expire_time_idx",
    ReservationRow.expire_time,
    postgresql_where=text("state = 'held'"),
)


class ReservationItemRow(Base):
    """``quantity`` units of ``product_id`` in reservation ``reservation_id``."""

    __tablename__ = "reservation_items"

    reservation_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(
        Integer, CheckConstraint("quantity BETWEEN 1 AND 99", name="quantity")
    )
