"""Account state (active or disabled) and the event tables (outbox, inbox).

Existing users are active.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pkg.migrations import create_event_tables, drop_event_tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("state", sa.Text(), nullable=False, server_default="active"))
    op.create_check_constraint("users_state_check", "users", "state IN ('active', 'disabled')")
    create_event_tables()


def downgrade() -> None:
    drop_event_tables()
    op.drop_constraint("users_state_check", "users", type_="check")
    op.drop_column("users", "state")
