"""Sealing domain event messages into ``agora.events.v1.Envelope`` and opening them again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf import any_pb2, timestamp_pb2
from google.protobuf.message import DecodeError, Message

from agora.events.v1 import envelope_pb2
from pkg.obs import current

Envelope = envelope_pb2.Envelope


@dataclass(frozen=True)
class Event:
    """What a handler learns about the event besides its payload.

    ``id`` is the event's UUID (text), ``type`` the payload's full message name, ``source``
    the producing service, ``subject`` the aggregate's resource name, ``time`` when it was
    recorded (timezone-aware UTC), ``traceparent``/``tracestate`` the W3C Trace Context of the
    request that caused it (empty strings when none), ``message_id`` the Redis stream entry id.
    """

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    traceparent: str
    tracestate: str
    message_id: str


class MalformedEnvelope(ValueError):
    """The bytes are not an ``Envelope`` or lack a required attribute; ``str()`` says which."""


def seal(
    payload: Message,
    *,
    source: str,
    subject: str,
    time: datetime,
    traceparent: str = "",
    tracestate: str = "",
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """An ``Envelope`` holding ``payload`` (packed in ``google.protobuf.Any``), with a new
    random UUID (RFC 9562 version 4) unless ``event_id`` is given; ``time`` must be
    timezone-aware."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(time)
    packed = any_pb2.Any()
    packed.Pack(payload)
    return Envelope(
        id=str(event_id or uuid.uuid4()),
        type=payload.DESCRIPTOR.full_name,
        source=source,
        subject=subject,
        time=stamp,
        traceparent=traceparent,
        tracestate=tracestate,
        payload=packed,
    )


def open_envelope(data: bytes) -> Envelope:
    """The ``Envelope`` serialized in ``data``; ``MalformedEnvelope`` when it does not parse,
    its id is not a UUID, its type is empty or does not match the payload's type URL."""
    envelope = Envelope()
    try:
        envelope.ParseFromString(data)
    except DecodeError as error:
        raise MalformedEnvelope(f"not an agora.events.v1.Envelope: {error}") from error
    try:
        uuid.UUID(envelope.id)
    except ValueError as error:
        raise MalformedEnvelope(f"id {envelope.id!r} is not a UUID") from error
    if not envelope.type or envelope.payload.TypeName() != envelope.type:
        raise MalformedEnvelope(
            f"type {envelope.type!r} does not match the payload's {envelope.payload.type_url!r}"
        )
    return envelope


def event_of(envelope: Envelope, message_id: str) -> Event:
    """The ``Event`` attributes of ``envelope`` read from stream entry ``message_id``."""
    return Event(
        id=envelope.id,
        type=envelope.type,
        source=envelope.source,
        subject=envelope.subject,
        time=envelope.time.ToDatetime(tzinfo=UTC),
        traceparent=envelope.traceparent,
        tracestate=envelope.tracestate,
        message_id=message_id,
    )


def current_traceparent() -> str:
    """The W3C ``traceparent`` of the running request (``pkg.obs``), or ``""`` outside one."""
    fields = current()
    if not fields.trace_id or not fields.span_id:
        return ""
    return f"00-{fields.trace_id}-{fields.span_id}-01"
