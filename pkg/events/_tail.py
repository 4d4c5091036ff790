"""Reading the producers' streams as an operator: entries decoded to JSON-ready dicts.

``recent_events`` gives the last ``count`` entries of the streams (merged by entry id, so
in the order Redis recorded them), ``events_after`` every entry after an id,
``follow_events`` blocks (``XREAD BLOCK``) for new ones.  Each entry becomes one dict
(``decode_entry``): the envelope's attributes and its payload in the proto3 JSON mapping
(``google.protobuf.json_format``, lowerCamelCase names as the edge uses), decoded with the
default descriptor pool after importing every contract module (``pkg.contracts``).  An
entry that cannot be decoded is still one dict, with a ``decode_error`` and its bytes in
base64: reading never stops at a bad entry.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import heapq
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from google.protobuf import any_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError
from redis.asyncio import Redis

from pkg.contracts import import_contracts
from pkg.events._envelope import MalformedEnvelope, open_envelope
from pkg.events._streams import ENVELOPE_FIELD, TYPE_FIELD, producer_streams, stream_name

Record = dict[str, Any]
_PAGE = 200


@functools.cache
def _load_contracts() -> None:
    import_contracts()


def entry_key(entry_id: str) -> tuple[int, int]:
    """The sort key of stream entry id ``<ms>-<seq>`` (``ValueError`` when it is not one)."""
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def payload_to_json(payload: any_pb2.Any) -> Any:
    """``payload`` unpacked to its message type and mapped to JSON values (a dict, or a
    string/number for wrapper types).  Raises ``KeyError`` when the type is not in the
    descriptor pool, ``DecodeError``/``json_format.Error`` when the bytes do not decode."""
    descriptor = descriptor_pool.Default().FindMessageTypeByName(payload.TypeName())
    message = message_factory.GetMessageClass(descriptor)()
    message.ParseFromString(payload.value)
    return json_format.MessageToDict(message)


def decode_entry(stream: str, entry_id: str, fields: Mapping[Any, Any]) -> Record:
    """One stream entry as a dict: ``stream``, ``entry_id``, the envelope's ``id``, ``type``,
    ``source``, ``subject``, ``time`` (RFC 3339, UTC), ``traceparent``, ``tracestate`` and
    ``payload`` (JSON values).  When the envelope does not open, ``decode_error`` and
    ``envelope_base64`` instead of its attributes; when only the payload does not decode
    (a type no contract declares, bad bytes), ``decode_error`` and ``payload_base64``
    instead of ``payload``."""
    _load_contracts()
    record: Record = {"stream": stream, "entry_id": entry_id}
    data = fields.get(ENVELOPE_FIELD)
    if not isinstance(data, bytes):
        record["decode_error"] = "no envelope field in the entry"
        record["fields"] = sorted(_text(name) for name in fields)
        return record
    try:
        envelope = open_envelope(data)
    except MalformedEnvelope as error:
        record.update(decode_error=f"malformed envelope: {error}", envelope_base64=_b64(data))
        return record
    record.update(
        id=envelope.id,
        type=envelope.type,
        source=envelope.source,
        subject=envelope.subject,
        time=envelope.time.ToJsonString(),
        traceparent=envelope.traceparent,
        tracestate=envelope.tracestate,
    )
    try:
        record["payload"] = payload_to_json(envelope.payload)
    except KeyError:
        record.update(
            decode_error=f"unknown event type {envelope.type}",
            payload_base64=_b64(envelope.payload.value),
        )
    except (DecodeError, json_format.Error) as error:
        record.update(
            decode_error=f"undecodable payload: {error}",
            payload_base64=_b64(envelope.payload.value),
        )
    return record


def _matches(fields: Mapping[Any, Any], type_name: str | None) -> bool:
    return type_name is None or _text(fields.get(TYPE_FIELD, b"")) == type_name


async def select_streams(redis: Redis, source: str | None) -> list[str]:
    """The stream of ``source``, or every producer's stream when ``source`` is None."""
    return [stream_name(source)] if source else await producer_streams(redis)


async def last_ids(redis: Redis, streams: list[str]) -> dict[str, str]:
    """Each stream's newest entry id (``0-0`` for an empty or missing stream): where
    ``follow_events`` starts so that it prints only what arrives afterwards."""
    cursors = {}
    for stream in streams:
        newest: Any = await redis.xrevrange(stream, count=1)
        cursors[stream] = _text(newest[0][0]) if newest else "0-0"
    return cursors


async def recent_events(
    redis: Redis,
    streams: list[str],
    *,
    count: int,
    type_name: str | None = None,
    until: Mapping[str, str] | None = None,
) -> list[Record]:
    """The last ``count`` entries over ``streams`` (of type ``type_name`` when given),
    oldest first, up to and including entry ``until[stream]`` when given (the
    ``last_ids`` a follow-up ``follow_events`` starts after, so nothing is printed twice
    or missed).  A stream is read backwards in pages of 200 until ``count`` entries match
    or it ends."""
    found: list[tuple[tuple[int, int], str, str, Mapping[Any, Any]]] = []
    for stream in streams:
        matched = 0
        end = (until or {}).get(stream, "+")
        while matched < count:
            page: Any = await redis.xrevrange(stream, max=end, count=_PAGE)
            for raw_id, fields in page:
                entry_id = _text(raw_id)
                if _matches(fields, type_name) and matched < count:
                    found.append((entry_key(entry_id), stream, entry_id, fields))
                    matched += 1
            if len(page) < _PAGE:
                break
            end = f"({_text(page[-1][0])}"
    newest = heapq.nlargest(count, found, key=lambda item: (item[0], item[1]))
    return [
        decode_entry(stream, entry_id, fields) for _, stream, entry_id, fields in reversed(newest)
    ]


async def events_after(
    redis: Redis, cursors: dict[str, str], *, type_name: str | None = None
) -> AsyncGenerator[Record, None]:
    """Every entry after ``cursors[stream]`` (an entry id) in each stream, merged in entry
    id order (read in pages of 200 per stream); once the iteration ends, ``cursors`` holds
    the last entry id read of each stream."""
    heads: list[tuple[tuple[int, int], str, str, Mapping[Any, Any]]] = []
    buffers: dict[str, list[Any]] = {}

    async def refill(stream: str) -> None:
        page: Any = await redis.xrange(stream, min=f"({cursors[stream]}", count=_PAGE)
        buffers[stream] = list(reversed(page))
        if page:
            cursors[stream] = _text(page[-1][0])
        _push(stream)

    def _push(stream: str) -> None:
        if buffers[stream]:
            raw_id, fields = buffers[stream].pop()
            entry_id = _text(raw_id)
            heapq.heappush(heads, (entry_key(entry_id), stream, entry_id, fields))

    for stream in cursors:
        await refill(stream)
    while heads:
        _, stream, entry_id, fields = heapq.heappop(heads)
        if _matches(fields, type_name):
            yield decode_entry(stream, entry_id, fields)
        if buffers[stream]:
            _push(stream)
        else:
            await refill(stream)


async def follow_events(
    redis: Redis,
    cursors: dict[str, str],
    *,
    type_name: str | None = None,
    rescan: bool = False,
    block: float = 2.0,
) -> AsyncGenerator[Record, None]:
    """Entries added after ``cursors`` (``XREAD BLOCK``, ``block`` seconds per call) until
    the caller stops iterating; ``cursors`` is advanced.  With ``rescan``, streams that
    appear later (a new producer) are added from their start whenever a wait ends empty."""
    block_ms = max(1, int(block * 1000))
    while True:
        if not cursors:
            reply: Any = []
        else:
            reply = await redis.xread(dict[Any, Any](cursors), count=_PAGE, block=block_ms)
        if not reply:
            if rescan:
                for stream in await producer_streams(redis):
                    cursors.setdefault(stream, "0-0")
            if not cursors:
                await asyncio.sleep(block)
            continue
        batch = []
        for raw_stream, entries in reply:
            stream = _text(raw_stream)
            for raw_id, fields in entries:
                entry_id = _text(raw_id)
                cursors[stream] = entry_id
                batch.append((entry_key(entry_id), stream, entry_id, fields))
        for _, stream, entry_id, fields in sorted(batch, key=lambda item: item[:2]):
            if _matches(fields, type_name):
                yield decode_entry(stream, entry_id, fields)
