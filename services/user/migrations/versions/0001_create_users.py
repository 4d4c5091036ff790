"""Create users and the idempotency keys of CreateUser.

Revision ID: 0001
Revises:
Create Date: 2025-11-23
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


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint(
            "cardinality(roles) > 0 AND roles <@ ARRAY['customer', 'provider', 'admin']::text[]",
            name="users_roles_check",
        ),
        sa.CheckConstraint("version > 0", name="users_version_check"),
        sa.PrimaryKeyConstraint("id", name="users_pkey"),
    )
    op.create_index("users_email_lower_key", "users", [sa.text("lower(email)")], unique=True)
    op.create_index(
        "users_create_time_id_idx", "users", [sa.text("create_time DESC"), sa.text("id DESC")]
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="idempotency_keys_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="idempotency_keys_user_id_fkey"
        ),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("users_create_time_id_idx", table_name="users")
    op.drop_index("users_email_lower_key", table_name="users")
    op.drop_table("users")
