"""A raw HTTP/2 client for probing an edge with spellings ordinary clients never send.

``httpx`` and ``grpc`` normalise what they send (no request trailers, no malformed
``grpc-timeout``, no ``HEAD`` with ``application/grpc``). ``raw_h2_request`` sends exactly the
header block, body and trailer block it is given, over TLS with ALPN ``h2`` (RFC 9113), using
the ``h2`` package's state machine with outbound validation switched off.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events

Header = tuple[str, str | bytes]
"""A header name and its value; a ``bytes`` value is sent as is (e.g. non-ASCII octets)."""


@dataclass
class RawResponse:
    """What came back on the stream: ``status`` (``:status``), response ``headers`` and
    ``trailers`` (names lower-case, the last value of a repeated name wins), the ``body``
    bytes, ``reset`` (the HTTP/2 error code of a RST_STREAM, else ``None``) and ``closed``
    (the peer ended the connection, GOAWAY or EOF, before the stream ended)."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    trailers: dict[str, str] = field(default_factory=dict)
    reset: int | None = None
    closed: bool = False

    @property
    def grpc_status(self) -> int | None:
        """``grpc-status`` from the trailers (or a trailers-only response), as an int."""
        value = self.trailers.get("grpc-status", self.headers.get("grpc-status"))
        return None if value is None else int(value)


def grpc_frame(message: bytes) -> bytes:
    """``message`` as one uncompressed gRPC length-prefixed message (PROTOCOL-HTTP2.md)."""
    return struct.pack(">?I", False, len(message)) + message


def _encoded(pairs: Sequence[Header]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in pairs]


def _decoded(pairs: Sequence[tuple[bytes | str, bytes | str]]) -> dict[str, str]:
    return {
        (k.decode("latin-1") if isinstance(k, bytes) else k).lower(): (
            v.decode("latin-1") if isinstance(v, bytes) else v
        )
        for k, v in pairs
    }


async def raw_h2_request(
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext,
    headers: Sequence[Header],
    body: bytes = b"",
    trailers: Sequence[Header] = (),
    server_name: str | None = None,
    within: float = 10.0,
) -> RawResponse:
    """Send one request on a new HTTP/2 connection and return the response.

    ``headers`` is the whole header block, pseudo-headers included, in the order given;
    ``trailers``, when given, follow the body as a second header block with END_STREAM.
    ``ssl_context`` must offer ALPN ``h2`` (``set_alpn_protocols(["h2"])``). Raises
    ``TimeoutError`` when the response is not complete ``within`` seconds.
    """
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ssl_context, server_hostname=server_name or host),
        within,
    )
    config = h2.config.H2Configuration(
        client_side=True,
        header_encoding=None,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
        validate_inbound_headers=False,
    )
    connection = h2.connection.H2Connection(config=config)
    connection.initiate_connection()
    stream = connection.get_next_available_stream_id()
    connection.send_headers(stream, _encoded(headers), end_stream=not body and not trailers)
    if body:
        connection.send_data(stream, body, end_stream=not trailers)
    if trailers:
        connection.send_headers(stream, _encoded(trailers), end_stream=True)
    writer.write(connection.data_to_send())
    response = RawResponse()
    try:
        await asyncio.wait_for(_read(reader, writer, connection, stream, response), within)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass
    return response


async def _read(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    connection: h2.connection.H2Connection,
    stream: int,
    response: RawResponse,
) -> None:
    chunks: list[bytes] = []
    while True:
        data = await reader.read(65536)
        if not data:
            response.closed = True
            break
        for event in connection.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                response.headers = _decoded(event.headers)
                response.status = int(response.headers.pop(":status"))
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                chunks.append(event.data)
                connection.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, h2.events.TrailersReceived) and event.stream_id == stream:
                response.trailers = _decoded(event.headers)
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream:
                response.reset = int(event.error_code)
                break
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                break
            elif isinstance(event, h2.events.ConnectionTerminated):
                response.closed = True
                break
        else:
            writer.write(connection.data_to_send())
            continue
        break
    response.body = b"".join(chunks)
