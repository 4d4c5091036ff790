"""The ``outbox`` and ``inbox`` tables every service that produces or consumes events holds.

Both are SQLAlchemy Core ``Table``s on a private ``MetaData``; a service adds them to its
own metadata with ``include_event_tables(metadata)`` so its Alembic autogenerate creates
and migrates them with the rest of its schema.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    text,
)

NOTIFY_CHANNEL = "agora_outbox"
"""The ``LISTEN``/``NOTIFY`` channel a commit with events notifies (the relay listens)."""
EVENT_METADATA = MetaData()

OUTBOX = Table(
    "outbox",
    EVENT_METADATA,
    Column(
        "sequence",
        BigInteger,
        Identity(always=True),
        primary_key=True,
        comment="commit order of one subject's events (BIGINT identity)",
    ),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("type", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("envelope", LargeBinary, nullable=False, comment="agora.events.v1.Envelope, serialized"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Index("outbox_unpublished", "sequence", postgresql_where=text("published_at IS NULL")),
    Index("outbox_published_at", "published_at", postgresql_where=text("published_at IS NOT NULL")),
)
"""Events committed with the state that caused them, until the relay has published them
and the retention window has passed."""

INBOX = Table(
    "inbox",
    EVENT_METADATA,
    Column("event_id", Uuid, primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
"""Ids of the events whose effect this service has committed (written in the same
transaction as the effect), so a redelivered event is skipped."""


def include_event_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Copy ``outbox`` and ``inbox`` into ``metadata`` (a service's ``Base.metadata``) and
    return the copies; idempotent (an existing copy is returned as it is)."""
    return OUTBOX.to_metadata(metadata), INBOX.to_metadata(metadata)
