"""Every RPC shape passes every interceptor: auth, access rules, decoding, validation and
error mapping, for unary and streaming requests and responses alike."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, struct_pb2

from agora.errors.v1.reasons import SharedReason
from agora.user.v1 import user_pb2
from pkg import errors
from pkg.policy import Access, AccessRule
from pkg.server import (
    AuthInterceptor,
    ErrorInterceptor,
    RequestContextInterceptor,
    ValidationInterceptor,
)
from pkg.server._requests import nul_violations
from pkg.testing import TokenMint, status_details

SHAPES = ("UU", "US", "SU", "SS")
OPEN, INTERNAL = "agora.test.v1.Shapes", "agora.test.v1.InternalShapes"
Request, Reply = user_pb2.GetUserRequest, user_pb2.User
ME = "users/me"
UNAVAILABLE = "users/00000000-0000-0000-0000-000000000001"
BOOM = "users/00000000-0000-0000-0000-000000000002"


def _outcome(name: str) -> str:
    if name == UNAVAILABLE:
        raise errors.Unavailable(
            "the database is unavailable", reason=SharedReason.DATABASE_UNAVAILABLE
        )
    if name == BOOM:
        raise RuntimeError("boom: secret detail")
    return name


async def _uu(request: Any, context: grpc.aio.ServicerContext) -> Any:
    return Reply(name=_outcome(request.name))


async def _us(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
    yield Reply(name=_outcome(request.name))


async def _su(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
    return Reply(name=",".join([_outcome(r.name) async for r in requests]))


async def _ss(
    requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
) -> AsyncIterator[Any]:
    async for request in requests:
        yield Reply(name=_outcome(request.name))


def _handlers() -> dict[str, grpc.RpcMethodHandler]:
    options = {
        "request_deserializer": Request.FromString,
        "response_serializer": Reply.SerializeToString,
    }
    return {
        "UU": grpc.unary_unary_rpc_method_handler(_uu, **options),
        "US": grpc.unary_stream_rpc_method_handler(_us, **options),
        "SU": grpc.stream_unary_rpc_method_handler(_su, **options),
        "SS": grpc.stream_stream_rpc_method_handler(_ss, **options),
    }


def _caller(context: grpc.aio.ServicerContext) -> str | None:
    return dict(context.invocation_metadata() or ()).get("x-test-caller")


@pytest.fixture
async def channel(token_mint: TokenMint) -> AsyncIterator[grpc.aio.Channel]:
    rules = {f"/{OPEN}/{s}": AccessRule(f"/{OPEN}/{s}", Access.AUTHENTICATED) for s in SHAPES}
    rules |= {
        f"/{INTERNAL}/{s}": AccessRule(f"/{INTERNAL}/{s}", Access.CALLERS, frozenset({"auth"}))
        for s in SHAPES
    }
    server = grpc.aio.server(
        interceptors=[
            RequestContextInterceptor(_caller),
            ErrorInterceptor(),
            AuthInterceptor(rules, token_mint.verifier, _caller),
            ValidationInterceptor(),
        ]
    )
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(OPEN, _handlers()),
            grpc.method_handlers_generic_handler(INTERNAL, _handlers()),
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    await server.stop(None)


async def call(
    channel: grpc.aio.Channel,
    service: str,
    shape: str,
    requests: list[Any],
    metadata: tuple[tuple[str, str], ...] = (),
    serializer: Callable[[Any], bytes] | None = Request.SerializeToString,
) -> list[str]:
    """Send ``requests`` (one for unary requests) with ``shape``; return the reply names."""
    method = f"/{service}/{shape}"
    kind = {
        "UU": channel.unary_unary,
        "US": channel.unary_stream,
        "SU": channel.stream_unary,
        "SS": channel.stream_stream,
    }[shape]
    stub = kind(method, request_serializer=serializer, response_deserializer=Reply.FromString)
    argument: Any = requests[0] if shape[0] == "U" else iter(requests)
    if shape[1] == "U":
        return [(await stub(argument, metadata=metadata)).name]
    return [reply.name async for reply in stub(argument, metadata=metadata)]


def _bearer(mint: TokenMint) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {mint.token()}"),)


@pytest.mark.parametrize("shape", SHAPES)
async def test_every_shape_needs_a_token(
    channel: grpc.aio.Channel, shape: str, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, OPEN, shape, [Request(name=ME)])
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert status_details(caught.value)["error_info"].reason == "TOKEN_MISSING"
    assert await call(channel, OPEN, shape, [Request(name=ME)], _bearer(token_mint)) == [ME]


@pytest.mark.parametrize("shape", SHAPES)
async def test_every_shape_checks_the_callers_identity(
    channel: grpc.aio.Channel, shape: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, INTERNAL, shape, [Request(name=ME)], (("x-test-caller", "edge"),))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert status_details(caught.value)["error_info"].reason == "CALLER_NOT_ALLOWED"
    assert await call(
        channel, INTERNAL, shape, [Request(name=ME)], (("x-test-caller", "auth"),)
    ) == [ME]


@pytest.mark.parametrize("shape", SHAPES)
async def test_every_message_is_validated(channel: grpc.aio.Channel, shape: str) -> None:
    requests = [Request(name=ME), Request(name="")][-1 if shape[0] == "U" else 0 :]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, INTERNAL, shape, requests, (("x-test-caller", "auth"),))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "name" in status_details(caught.value)["violations"]


@pytest.mark.parametrize("shape", SHAPES)
async def test_undecodable_bytes_are_invalid_argument(
    channel: grpc.aio.Channel, shape: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(
            channel,
            INTERNAL,
            shape,
            [b"\xff\xff\xff\xff"],
            (("x-test-caller", "auth"),),
            serializer=None,
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "request message is not valid protobuf"
    assert status_details(caught.value)["error_info"].reason == "MALFORMED_REQUEST"


@pytest.mark.parametrize("shape", SHAPES)
async def test_nul_in_a_string_is_invalid_argument(channel: grpc.aio.Channel, shape: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(
            channel, INTERNAL, shape, [Request(name="users/me\x00")], (("x-test-caller", "auth"),)
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    violation = status_details(caught.value)["bad_request"].field_violations[0]
    assert (violation.field, violation.reason) == ("name", "STRING_CONTAINS_NUL")


def test_nul_is_found_in_nested_repeated_and_map_fields() -> None:
    request = user_pb2.UpdateUserRequest(
        user=user_pb2.User(display_name="A\x00"),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name", "x\x00"]),
    )
    assert {v.field for v in nul_violations(request)} == {
        "user.display_name",
        "update_mask.paths[1]",
    }
    document = struct_pb2.Struct()
    document.update({"k\x00": "v", "ok": {"inner": "v\x00"}, "list": ["a", "b\x00"]})
    fields = {v.field for v in nul_violations(document)}
    assert fields == {
        "fields['k\\x00']",
        "fields['ok'].struct_value.fields['inner'].string_value",
        "fields['list'].list_value.values[1].string_value",
    }
    assert nul_violations(user_pb2.User(display_name="fine")) == []


@pytest.mark.parametrize("shape", SHAPES)
async def test_failures_are_mapped_and_logged_once(
    channel: grpc.aio.Channel, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = (("x-test-caller", "auth"),)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        with pytest.raises(grpc.aio.AioRpcError) as unavailable:
            await call(channel, INTERNAL, shape, [Request(name=UNAVAILABLE)], metadata)
    assert unavailable.value.code() is grpc.StatusCode.UNAVAILABLE
    assert status_details(unavailable.value)["retry_info"].retry_delay.seconds == 1
    assert ("retry-after", "1") in tuple(unavailable.value.trailing_metadata() or ())
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelno, r.exc_info) for r in problems] == [(logging.WARNING, None)]

    caplog.clear()
    with caplog.at_level(logging.INFO):
        with pytest.raises(grpc.aio.AioRpcError) as boom:
            await call(channel, INTERNAL, shape, [Request(name=BOOM)], metadata)
    assert boom.value.code() is grpc.StatusCode.INTERNAL
    assert "secret" not in (boom.value.details() or "")
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 1 and problems[0].exc_info is not None


@pytest.mark.parametrize(
    "header",
    [
        ("grpc-timeout", "abc"),
        ("grpc-timeout", "-1S"),
        ("grpc-encoding", "bogus"),
        ("grpc-previous-rpc-attempts", "x"),
    ],
)
async def test_malformed_grpc_headers_are_refused_by_grpc_core_before_any_handler(
    header: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """gRPC core's HPACK parser refuses these with an explicit grpc-message (status 13,
    HTTP 200) before Python sees the call; nothing to map in-process, nothing logged by
    Agora.  The edge strips client grpc-* headers (docs/adr/0013)."""
    import struct

    import httpx

    ran: list[Any] = []

    async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
        ran.append(request)
        return Reply(name=ME)

    server = grpc.aio.server(
        interceptors=[
            RequestContextInterceptor(_caller),
            ErrorInterceptor(),
            ValidationInterceptor(),
        ]
    )
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                OPEN,
                {
                    "UU": grpc.unary_unary_rpc_method_handler(
                        handler, Request.FromString, Reply.SerializeToString
                    )
                },
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    body = Request(name=ME).SerializeToString()
    try:
        async with httpx.AsyncClient(http1=False, http2=True) as client:
            reply = await client.post(
                f"http://127.0.0.1:{port}/{OPEN}/UU",
                content=b"\x00" + struct.pack(">I", len(body)) + body,
                headers={
                    "content-type": "application/grpc",
                    "te": "trailers",
                    header[0]: header[1],
                },
            )
    finally:
        await server.stop(None)
    assert reply.status_code == 200
    assert reply.headers["grpc-status"] == "13"
    assert reply.headers["grpc-message"] == f"Error parsing '{header[0]}' metadata"
    assert ran == []
    assert not [r for r in caplog.records if r.name.startswith("agora")]
