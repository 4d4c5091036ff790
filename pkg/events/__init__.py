"""The event backbone: envelopes, the outbox relay, consumers, inboxes and retention.

Producers commit events with their state through ``pkg.uow.SqlUnitOfWork`` (``outbox``
table); a ``Relay`` publishes them to the producer's Redis stream; each consuming service
runs a ``Consumer`` per stream it reads, whose ``MessageBus`` routes each event type to a
handler; the handler's effect is written with its inbox entry (``inbox`` table through
``UnitOfWork.received``, or ``apply_once`` in Redis) so redelivery is harmless.  See
docs/adr/0027-event-backbone.md and docs/architecture.md ("Events").
"""

from pkg.events._bus import Handler, MessageBus, Rejected, Route
from pkg.events._catalog import EventTypes, contract_events, past_tense
from pkg.events._consumer import Consumer, default_consumer_name
from pkg.events._envelope import (
    Envelope,
    Event,
    MalformedEnvelope,
    current_traceparent,
    event_of,
    open_envelope,
    seal,
)
from pkg.events._redis_inbox import apply_once, inbox_key
from pkg.events._relay import Relay
from pkg.events._streams import ENVELOPE_FIELD, TYPE_FIELD, dead_letter_stream, stream_name
from pkg.events._tables import EVENT_METADATA, INBOX, OUTBOX, include_event_tables
from pkg.events._trim import trim_stream

__all__ = [
    "ENVELOPE_FIELD",
    "EVENT_METADATA",
    "INBOX",
    "OUTBOX",
    "TYPE_FIELD",
    "Consumer",
    "Envelope",
    "Event",
    "EventTypes",
    "Handler",
    "MalformedEnvelope",
    "MessageBus",
    "Rejected",
    "Relay",
    "Route",
    "apply_once",
    "contract_events",
    "current_traceparent",
    "dead_letter_stream",
    "default_consumer_name",
    "event_of",
    "inbox_key",
    "include_event_tables",
    "open_envelope",
    "past_tense",
    "seal",
    "stream_name",
    "trim_stream",
]
