"""Requests whose metadata gRPC core refuses, in every spelling an edge must stop.

gRPC core fails a request whose header block it cannot parse and may then fail later,
well-formed requests on the same HTTP/2 connection (grpc/grpc#34721). ``poison_requests``
lists such requests for one edge: malformed gRPC control headers as headers and as request
trailers, binary (``-bin``) metadata with bad base64, methods other than POST, names and
values outside gRPC's alphabet (PROTOCOL-HTTP2.md), on HTTP/JSON routes, native gRPC routes
and server reflection. ``refused_cleanly`` says whether an edge's answer to one is a clean
refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from pkg.testing._h2 import Header, RawResponse, grpc_frame

REFLECTION_PATH = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
LIST_SERVICES = grpc_frame(b"\x3a\x00")
"""A ``ServerReflectionRequest`` with ``list_services: ""``, as one gRPC message."""


@dataclass(frozen=True)
class RawRequest:
    """One HTTP/2 request as ``raw_h2_request`` sends it."""

    headers: list[Header]
    body: bytes = b""
    trailers: tuple[Header, ...] = ()


def json_headers(authority: str, path: str, **extra: str | bytes) -> list[Header]:
    """Headers of an HTTP/JSON POST to ``path``, plus ``extra`` (names as given)."""
    return [
        (":method", "POST"),
        (":scheme", "https"),
        (":path", path),
        (":authority", authority),
        ("content-type", "application/json"),
        *extra.items(),
    ]


def grpc_headers(
    authority: str,
    path: str,
    *,
    method: str = "POST",
    content_type: str = "application/grpc",
    **extra: str | bytes,
) -> list[Header]:
    """Headers of a native gRPC call of ``path``, plus ``extra`` (``_`` becomes ``-``)."""
    return [
        (":method", method),
        (":scheme", "https"),
        (":path", path),
        (":authority", authority),
        ("content-type", content_type),
        ("te", "trailers"),
        *[(name.replace("_", "-"), value) for name, value in extra.items()],
    ]


def poison_requests(
    authority: str,
    *,
    grpc_path: str,
    grpc_message: bytes,
    json_path: str | None = None,
    json_body: bytes = b"{}",
    extra: tuple[Header, ...] = (),
) -> dict[str, RawRequest]:
    """Named poisoned requests for an edge at ``authority``.

    ``grpc_path``/``grpc_message`` are a public RPC and one framed request message for it
    (see ``grpc_frame``); ``json_path``/``json_body`` a public HTTP/JSON POST binding and a
    valid JSON body for it (without ``json_path`` the HTTP/JSON spellings are left out).
    Server reflection is called with ``LIST_SERVICES``. ``extra`` headers (an
    ``authorization``, say, so the request passes the token check) end every header block.
    """
    bad_timeout = (("grpc-timeout", "garbage"),)

    def grpc(**more: str | bytes) -> list[Header]:
        return [
            *grpc_headers(authority, grpc_path),
            *[(name.replace("_", "-"), value) for name, value in more.items()],
            *extra,
        ]

    def json(**more: str | bytes) -> list[Header]:
        return [*json_headers(authority, json_path or "/", **more), *extra]

    def with_extra(headers: list[Header]) -> list[Header]:
        return [*headers, *extra]

    every = {
        "json trailer grpc-timeout": RawRequest(json(), json_body, bad_timeout),
        "json trailer x-bin": RawRequest(json(), json_body, (("x-poison-bin", "!!!"),)),
        "grpc trailer grpc-timeout": RawRequest(grpc(), grpc_message, bad_timeout),
        "reflection grpc-timeout": RawRequest(
            with_extra(grpc_headers(authority, REFLECTION_PATH, grpc_timeout="garbage")),
            LIST_SERVICES,
        ),
        "grpc-timeout too long": RawRequest(grpc(grpc_timeout="12345678901S"), grpc_message),
        "json x-anything-bin": RawRequest(json(**{"x-anything-bin": "$$$"}), json_body),
        "grpc authorization-bin": RawRequest(grpc(authorization_bin="%%%"), grpc_message),
        "grpc-encoding bogus": RawRequest(grpc(grpc_encoding="bogus"), grpc_message),
        "grpc-previous-rpc-attempts": RawRequest(
            grpc(grpc_previous_rpc_attempts="x"), grpc_message
        ),
        "grpc-status in a request": RawRequest(grpc(grpc_status="x"), grpc_message),
        "HEAD as gRPC": RawRequest(with_extra(grpc_headers(authority, grpc_path, method="HEAD"))),
        "GET as gRPC": RawRequest(with_extra(grpc_headers(authority, grpc_path, method="GET"))),
        "te gzip": RawRequest(
            [("te", "gzip") if name == "te" else (name, value) for name, value in grpc()],
            grpc_message,
        ),
        "charset content type": RawRequest(
            with_extra(
                grpc_headers(
                    authority,
                    json_path or grpc_path,
                    content_type="application/grpc;charset=utf-8",
                    grpc_encoding="bogus",
                )
            ),
            json_body,
        ),
        "obs-text value": RawRequest(grpc(**{"x-note": b"caf\xe9"}), grpc_message),
        "json obs-text value": RawRequest(json(**{"x-note": b"caf\xe9"}), json_body),
        "odd header name": RawRequest(grpc(**{"x-a!b": "1"}), grpc_message),
        "huge metadata": RawRequest(grpc(x_big="b" * 40000), grpc_message),
    }
    return {
        name: request
        for name, request in every.items()
        if json_path is not None or not name.startswith("json ")
    }


HTTP1_POISONS: tuple[dict[str, str], ...] = (
    {"content-type": "application/grpc", "grpc-timeout": "garbage"},
    {"content-type": "application/grpc", "te": "gzip"},
    {"content-type": "application/grpc", "x-y-bin": "***"},
    {"content-type": "application/grpc", "grpc-encoding": "bogus"},
    {"content-type": "application/grpc;charset=utf-8", "grpc-timeout": "x"},
)
"""Headers of native gRPC spelled over HTTP/1.1, which an edge forwards over HTTP/2."""


def refused_cleanly(response: RawResponse) -> bool:
    """Whether an edge's answer to a poisoned request is clean: a 4xx, a gRPC status other
    than INTERNAL and UNKNOWN, a success (the offending metadata was dropped or replaced),
    or a refusal by the edge's HTTP/2 codec of a malformed request (RFC 9113 §8.1.1: a stream
    reset, or GOAWAY for a connection-level protocol error such as ``te: gzip``), which ends
    only the sender's own stream or connection. Never a 5xx, INTERNAL or UNKNOWN."""
    if (response.reset is not None or response.closed) and response.status == 0:
        return True
    if response.headers.get("content-type", "").startswith("application/grpc"):
        status = response.grpc_status
        return (
            status is not None and status not in (2, 13) and (status != 0 or response.status == 200)
        )
    return 200 <= response.status < 500
