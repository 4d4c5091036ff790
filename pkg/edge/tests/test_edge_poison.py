"""One client cannot break other clients' requests: metadata gRPC core would refuse never
reaches a service, whatever spelling carries it (grpc/grpc#34721: after one header block
fails to parse, later valid ones on the same connection fail too)."""

from __future__ import annotations

import ssl

import grpc
import pytest

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg.testing import (
    HTTP1_POISONS,
    RawResponse,
    grpc_frame,
    grpc_headers,
    json_headers,
    poison_requests,
    raw_h2_request,
    refused_cleanly,
)
from pkg.testing._poison import LIST_SERVICES, REFLECTION_PATH

from .stub_auth import PASSWORD
from .test_edge_run import Edge

LOGIN = "/agora.auth.v1.AuthService/Login"
_LOGIN_JSON = b'{"email": "ann@example.com", "password": "correct horse"}'
_LOGIN_MESSAGE = grpc_frame(
    auth_pb2.LoginRequest(email="ann@example.com", password=PASSWORD).SerializeToString()
)


def _tls(edge: Edge) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(edge.root_ca))
    context.set_alpn_protocols(["h2"])
    return context


async def _send(
    edge: Edge,
    headers: list[tuple[str, str | bytes]],
    body: bytes = b"",
    trailers: tuple[tuple[str, str | bytes], ...] = (),
) -> RawResponse:
    host, port = edge.address.split(":")
    return await raw_h2_request(
        host, int(port), ssl_context=_tls(edge), headers=headers, body=body, trailers=trailers
    )


async def _well_formed_logins(edge: Edge, count: int) -> list[str]:
    """``count`` logins over HTTP/JSON and gRPC on the clients' usual paths; the failures."""
    failures = []
    async with edge.client() as client:
        for _ in range(count):
            response = await client.post(
                "/v1/auth:login", content=_LOGIN_JSON, headers={"content-type": "application/json"}
            )
            if response.status_code != 200:
                failures.append(f"HTTP {response.status_code} {response.text[:120]}")
    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
        for _ in range(count):
            try:
                await stub.Login(
                    auth_pb2.LoginRequest(email="ann@example.com", password=PASSWORD), timeout=5
                )
            except grpc.aio.AioRpcError as error:
                failures.append(f"gRPC {error.code().name} {error.details()}")
    return failures


async def test_poisoned_metadata_never_fails_other_clients(edge: Edge) -> None:
    assert await _well_formed_logins(edge, 5) == []
    poisons = poison_requests(
        edge.address,
        json_path="/v1/auth:login",
        json_body=_LOGIN_JSON,
        grpc_path=LOGIN,
        grpc_message=_LOGIN_MESSAGE,
    )
    answers = {}
    for _ in range(2):
        for name, request in poisons.items():
            answers[name] = await _send(edge, request.headers, request.body, request.trailers)
    async with edge.client() as http1:
        for headers in HTTP1_POISONS:
            answer = await http1.post(LOGIN, content=_LOGIN_MESSAGE, headers=headers)
            answers[f"HTTP/1.1 {headers}"] = RawResponse(
                status=answer.status_code, headers=dict(answer.headers), body=answer.content
            )

    failures = await _well_formed_logins(edge, 30)

    assert failures == []
    assert {name: answer for name, answer in answers.items() if not refused_cleanly(answer)} == {}


async def test_request_trailers_never_reach_the_service(edge: Edge) -> None:
    response = await _send(
        edge, json_headers(edge.address, "/v1/auth:login"), _LOGIN_JSON, (("x-trailer", "seen"),)
    )

    assert response.status == 200, response
    assert "x-trailer" not in edge.stub.last_call("Login")


@pytest.mark.parametrize("value", ["garbage", "123456789S", "-1S", "1s", "1 S", ""])
async def test_a_malformed_grpc_timeout_never_reaches_a_service(edge: Edge, value: str) -> None:
    logins = len([name for name, _ in edge.stub.calls if name == "Login"])
    answers = [
        await _send(edge, grpc_headers(edge.address, path, grpc_timeout=value), body)
        for path, body in [
            (LOGIN, _LOGIN_MESSAGE),
            (REFLECTION_PATH, LIST_SERVICES),
            ("/agora.user.v1.UserInternalService/CreateUser", b""),
        ]
    ]

    # A method's route is chosen after the guard (it needs x-agora-rpc), so the guard sees
    # the client's value and refuses it; reflection's route is chosen first and the
    # connection manager replaces the value with the route's own deadline.
    assert [answer.grpc_status for answer in answers] == [3, 0, 3], answers
    assert len([name for name, _ in edge.stub.calls if name == "Login"]) == logins


async def test_a_valid_grpc_timeout_is_capped_and_passed_on(edge: Edge) -> None:
    response = await _send(
        edge, grpc_headers(edge.address, LOGIN, grpc_timeout="99999999H"), _LOGIN_MESSAGE
    )

    assert response.grpc_status == 0, response
    name, remaining = edge.stub.deadlines[-1]
    assert name == "Login" and remaining is not None and remaining <= 5
