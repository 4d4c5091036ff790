"""Scope, fingerprint and expiry for the idempotency keys of CreateUser.

The key becomes ``(scope, request_id)``.  Existing rows were all written for the auth
service, so their scope is ``auth``; their fingerprint is empty, which matches no request
(a replay of an old key is refused rather than trusted); they expire 24 hours after
their ``create_time``.  ``expire_time`` gets an index for the sweep of expired keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "idempotency_keys"


def upgrade() -> None:
    op.add_column(_TABLE, sa.Column("scope", sa.Text(), nullable=False, server_default="auth"))
    op.add_column(_TABLE, sa.Column("fingerprint", sa.Text(), nullable=False, server_default=""))
    op.add_column(_TABLE, sa.Column("expire_time", sa.DateTime(timezone=True)))
    op.execute("UPDATE idempotency_keys SET expire_time = create_time + interval '24 hours'")
    op.alter_column(_TABLE, "expire_time", nullable=False)
    op.alter_column(_TABLE, "scope", server_default=None)
    op.alter_column(_TABLE, "fingerprint", server_default=None)
    op.drop_constraint("idempotency_keys_pkey", _TABLE, type_="primary")
    op.create_primary_key("idempotency_keys_pkey", _TABLE, ["scope", "request_id"])
    op.create_index("idempotency_keys_expire_time_idx", _TABLE, ["expire_time"])


def downgrade() -> None:
    op.drop_index("idempotency_keys_expire_time_idx", table_name=_TABLE)
    op.execute(
        "DELETE FROM idempotency_keys a USING idempotency_keys b "
        "WHERE a.request_id = b.request_id AND a.scope > b.scope"
    )
    op.drop_constraint("idempotency_keys_pkey", _TABLE, type_="primary")
    op.create_primary_key("idempotency_keys_pkey", _TABLE, ["request_id"])
    op.drop_column(_TABLE, "expire_time")
    op.drop_column(_TABLE, "fingerprint")
    op.drop_column(_TABLE, "scope")
