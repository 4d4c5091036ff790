"""Create baskets and the idempotency keys of CreateBasket.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "baskets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("version > 0", name="baskets_version_check"),
        sa.PrimaryKeyConstraint("id", name="baskets_pkey"),
    )
    op.create_index(
        "baskets_create_time_id_idx", "baskets", [sa.text("create_time DESC"), sa.text("id DESC")]
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("basket_id", sa.Uuid(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "request_id", name="idempotency_keys_pkey"),
        sa.ForeignKeyConstraint(
            ["basket_id"],
            ["baskets.id"],
            ondelete="CASCADE",
            name="idempotency_keys_basket_id_fkey",
        ),
    )
    op.create_index("idempotency_keys_expire_time_idx", "idempotency_keys", ["expire_time"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("baskets")
