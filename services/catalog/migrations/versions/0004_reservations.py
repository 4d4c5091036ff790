"""Stock reservations (one per order) and their items.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reservations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('held', 'committed', 'released', 'expired')", name="reservations_state_check"
        ),
        sa.PrimaryKeyConstraint("id", name="reservations_pkey"),
        sa.UniqueConstraint("order_id", name="reservations_order_id_key"),
    )
    op.create_index(
        "reservations_held_expire_time_idx",
        "reservations",
        ["expire_time"],
        postgresql_where=sa.text("state = 'held'"),
    )
    op.create_table(
        "reservation_items",
        sa.Column("reservation_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity BETWEEN 1 AND 99", name="reservation_items_quantity_check"),
        sa.PrimaryKeyConstraint("reservation_id", "product_id", name="reservation_items_pkey"),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            ondelete="CASCADE",
            name="reservation_items_reservation_id_fkey",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="reservation_items_product_id_fkey"
        ),
    )


def downgrade() -> None:
    op.drop_table("reservation_items")
    op.drop_table("reservations")
