"""Create products (money in minor units, stock, state, categories, a generated full-text
document with its GIN index) and the idempotency keys of CreateProduct.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, description), 'B')"
)


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("price_currency", sa.CHAR(3), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("stock_quantity", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column("search", postgresql.TSVECTOR(), sa.Computed(SEARCH_DOCUMENT, persisted=True)),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("price_currency ~ '^[A-Z]{3}$'", name="products_price_currency_check"),
        sa.CheckConstraint("price_minor > 0", name="products_price_minor_check"),
        sa.CheckConstraint("stock_quantity >= 0", name="products_stock_quantity_check"),
        sa.CheckConstraint("state IN ('draft', 'active', 'archived')", name="products_state_check"),
        sa.CheckConstraint("version > 0", name="products_version_check"),
        sa.PrimaryKeyConstraint("id", name="products_pkey"),
    )
    op.create_index("products_create_time_id_idx", "products", [sa.text("create_time DESC"), "id"])
    op.create_index("products_price_minor_id_idx", "products", ["price_minor", "id"])
    op.create_index("products_search_idx", "products", ["search"], postgresql_using="gin")
    op.create_index("products_categories_idx", "products", ["categories"], postgresql_using="gin")
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "request_id", name="idempotency_keys_pkey"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            ondelete="CASCADE",
            name="idempotency_keys_product_id_fkey",
        ),
    )
    op.create_index("idempotency_keys_expire_time_idx", "idempotency_keys", ["expire_time"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("products")
