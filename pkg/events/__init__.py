"""The event backbone: envelopes, the outbox relay, consumers, inboxes and retention.

Producers commit events with their state through ``pkg.sql_uow.SqlUnitOfWork`` (``outbox``
table); a ``Relay`` publishes them to the producer's Redis stream; each consuming service
runs a ``Consumer`` per stream it reads, whose ``MessageBus`` routes each event type to a
handler; the handler's effect is written with its inbox entry (``inbox`` table through
``UnitOfWork.received``, or ``apply_once`` in Redis) so redelivery is harmless.  See
docs/adr/0027-event-backbone.md and docs/architecture.md ("Events").

The operator's view (``agora events``, ``agora status``): ``recent_events``,
``events_after`` and ``follow_events`` read the streams decoded (``decode_entry``);
``list_dead_letters`` and ``replay_dead_letters`` handle dead letters; ``stream_stats``
says how far each consumer group is behind.
"""

from pkg.events._bus import Handler, MessageBus, Rejected, Route
from pkg.events._catalog import EventTypes, contract_events, past_tense
from pkg.events._consumer import Consumer, default_consumer_name
from pkg.events._dead_letters import (
    AmbiguousDeadLetter,
    DeadLetter,
    DeadLetterNotFound,
    Replayed,
    list_dead_letters,
    replay_dead_letters,
)
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
from pkg.events._stream_stats import GroupStats, StreamStats, stream_stats
from pkg.events._streams import (
    DEAD_LETTER_FIELDS,
    ENVELOPE_FIELD,
    GROUP_FIELD,
    MESSAGE_ID_FIELD,
    REASON_FIELD,
    TYPE_FIELD,
    dead_letter_of,
    dead_letter_stream,
    dead_letter_streams,
    producer_streams,
    source_of,
    stream_name,
)
from pkg.events._tables import EVENT_METADATA, INBOX, OUTBOX, include_event_tables
from pkg.events._tail import (
    decode_entry,
    events_after,
    follow_events,
    last_ids,
    recent_events,
    select_streams,
)
from pkg.events._trim import trim_stream

__all__ = [
    "DEAD_LETTER_FIELDS",
    "ENVELOPE_FIELD",
    "EVENT_METADATA",
    "GROUP_FIELD",
    "INBOX",
    "MESSAGE_ID_FIELD",
    "OUTBOX",
    "REASON_FIELD",
    "TYPE_FIELD",
    "AmbiguousDeadLetter",
    "Consumer",
    "DeadLetter",
    "DeadLetterNotFound",
    "Envelope",
    "Event",
    "EventTypes",
    "GroupStats",
    "Handler",
    "MalformedEnvelope",
    "MessageBus",
    "Rejected",
    "Relay",
    "Replayed",
    "Route",
    "StreamStats",
    "apply_once",
    "contract_events",
    "current_traceparent",
    "dead_letter_of",
    "dead_letter_stream",
    "dead_letter_streams",
    "decode_entry",
    "default_consumer_name",
    "event_of",
    "events_after",
    "follow_events",
    "inbox_key",
    "include_event_tables",
    "last_ids",
    "list_dead_letters",
    "open_envelope",
    "past_tense",
    "producer_streams",
    "recent_events",
    "replay_dead_letters",
    "seal",
    "select_streams",
    "source_of",
    "stream_name",
    "stream_stats",
    "trim_stream",
]
