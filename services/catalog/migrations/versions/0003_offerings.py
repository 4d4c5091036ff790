"""Service offerings, the providers' links to them and CreateOffering's idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offerings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("version > 0", name="offerings_version_check"),
        sa.CheckConstraint("length(title) BETWEEN 1 AND 200", name="offerings_title_check"),
        sa.PrimaryKeyConstraint("id", name="offerings_pkey"),
    )
    op.create_index("offerings_title_id_idx", "offerings", ["title", "id"])
    op.create_table(
        "provider_offerings",
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("offering_id", sa.Uuid(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", "offering_id", name="provider_offerings_pkey"),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            ondelete="CASCADE",
            name="provider_offerings_offering_id_fkey",
        ),
    )
    op.create_index(
        "provider_offerings_provider_time_idx",
        "provider_offerings",
        ["provider_id", "create_time", "offering_id"],
    )
    op.create_index(
        "provider_offerings_offering_time_idx",
        "provider_offerings",
        ["offering_id", "create_time", "provider_id"],
    )
    op.create_table(
        "offering_idempotency_keys",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("offering_id", sa.Uuid(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "request_id", name="offering_idempotency_keys_pkey"),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            ondelete="CASCADE",
            name="offering_idempotency_keys_offering_id_fkey",
        ),
    )
    op.create_index(
        "offering_idempotency_keys_expire_time_idx", "offering_idempotency_keys", ["expire_time"]
    )


def downgrade() -> None:
    op.drop_table("offering_idempotency_keys")
    op.drop_table("provider_offerings")
    op.drop_table("offerings")
