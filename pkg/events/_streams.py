"""Redis key names of the event backbone (see docs/adr/0027-event-backbone.md).

One stream per producing service, ``agora:events:{<source>}``; the braces are a Redis
Cluster hash tag, so the stream and every dead-letter stream of its consumer groups,
``agora:events:{<source>}:dead:<group>``, live in one slot and one ``MULTI`` may touch them
together.
"""

from __future__ import annotations

ENVELOPE_FIELD = b"envelope"
"""The stream entry field holding the serialized ``agora.events.v1.Envelope``."""
TYPE_FIELD = b"type"
"""The stream entry field repeating the envelope's ``type`` (for filtering without
decoding)."""


def stream_name(source: str) -> str:
    """The stream of the events ``source`` (a service name, ``user``) produces."""
    return f"agora:events:{{{source}}}"


def dead_letter_stream(source: str, group: str) -> str:
    """The dead-letter stream of consumer group ``group`` on ``source``'s stream."""
    return f"{stream_name(source)}:dead:{group}"
