"""One client cannot break other clients' requests: metadata gRPC core would refuse never
reaches a service, whatever spelling carries it (grpc/grpc#34721: after one header block
fails to parse, later valid ones on the same connection fail too)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg.testing import RawResponse, grpc_frame, raw_h2_request

from .stub_auth import PASSWORD
from .test_edge_run import Edge, _running_edge

LOGIN = "/agora.auth.v1.AuthService/Login"
REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
_LOGIN_JSON = b'{"email": "ann@example.com", "password": "correct horse"}'
_LOGIN_MESSAGE = grpc_frame(auth_pb2.LoginRequest(email="ann@example.com",
                                                  password=PASSWORD).SerializeToString())
_LIST_SERVICES = grpc_frame(b"\x3a\x00")  # ServerReflectionRequest{list_services: ""}


@pytest.fixture(scope="module")
async def edge(descriptor_set: Path, cert_dir: Path,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Edge]:
    async with _running_edge(descriptor_set, cert_dir,
                             tmp_path_factory.mktemp("edge-poison")) as edge:
        yield edge


def _tls(edge: Edge) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(edge.root_ca))
    context.set_alpn_protocols(["h2"])
    return context


def _pseudo(edge: Edge, method: str, path: str) -> list[tuple[str, str | bytes]]:
    return [(":method", method), (":scheme", "https"), (":path", path),
            (":authority", edge.address)]


def _json(edge: Edge, path: str = "/v1/auth:login", **extra: str | bytes
          ) -> list[tuple[str, str | bytes]]:
    return [*_pseudo(edge, "POST", path), ("content-type", "application/json"),
            *extra.items()]


def _grpc(edge: Edge, path: str = LOGIN, method: str = "POST",
          content_type: str = "application/grpc", **extra: str | bytes
          ) -> list[tuple[str, str | bytes]]:
    return [*_pseudo(edge, method, path), ("content-type", content_type), ("te", "trailers"),
            *[(name.replace("_", "-"), value) for name, value in extra.items()]]


def _poisons(edge: Edge) -> dict[str, tuple[list[tuple[str, str | bytes]], bytes,
                                            list[tuple[str, str | bytes]]]]:
    """Requests that each carry metadata gRPC core refuses: (headers, body, trailers)."""
    bad_timeout = [("grpc-timeout", "garbage")]
    return {
        "json trailer grpc-timeout": (_json(edge, "/v1/auth:logout"), b"{}", bad_timeout),
        "json trailer x-bin": (_json(edge), _LOGIN_JSON, [("x-poison-bin", "!!!")]),
        "grpc trailer grpc-timeout": (_grpc(edge), _LOGIN_MESSAGE, bad_timeout),
        "reflection grpc-timeout": (_grpc(edge, REFLECTION, grpc_timeout="garbage"),
                                    _LIST_SERVICES, []),
        "login grpc-timeout": (_grpc(edge, grpc_timeout="12345678901S"), _LOGIN_MESSAGE, []),
        "json x-anything-bin": (_json(edge, **{"x-anything-bin": "$$$"}), _LOGIN_JSON, []),
        "grpc authorization-bin": (_grpc(edge, authorization_bin="%%%"), _LOGIN_MESSAGE, []),
        "grpc encoding bogus": (_grpc(edge, grpc_encoding="bogus"), _LOGIN_MESSAGE, []),
        "grpc previous attempts": (_grpc(edge, grpc_previous_rpc_attempts="x"),
                                   _LOGIN_MESSAGE, []),
        "grpc HEAD": (_grpc(edge, method="HEAD"), b"", []),
        "grpc GET": (_grpc(edge, method="GET"), b"", []),
        "grpc te garbage": ([*_grpc(edge)[:-1], ("te", "gzip")], _LOGIN_MESSAGE, []),
        "charset grpc-encoding": (
            _grpc(edge, content_type="application/grpc;charset=utf-8", grpc_encoding="bogus"),
            _LOGIN_JSON, []),
        "json obs-text value": (_json(edge, **{"x-note": b"caf\xe9"}), _LOGIN_JSON, []),
        "grpc odd header name": (_grpc(edge, **{"x-a!b": "1"}), _LOGIN_MESSAGE, []),
        "grpc huge metadata": (_grpc(edge, x_big="b" * 40000), _LOGIN_MESSAGE, []),
    }


def _http1_poisons() -> list[dict[str, str]]:
    """Native gRPC spelled over HTTP/1.1, which Envoy forwards to the service over HTTP/2."""
    grpc = {"content-type": "application/grpc"}
    return [{**grpc, "grpc-timeout": "garbage"}, {**grpc, "te": "gzip"},
            {**grpc, "x-y-bin": "***"}, {**grpc, "grpc-encoding": "bogus"},
            {"content-type": "application/grpc;charset=utf-8", "grpc-timeout": "x"}]


async def _well_formed_logins(edge: Edge, count: int) -> list[str]:
    """``count`` logins over HTTP/JSON and gRPC on the clients' usual paths; the failures."""
    failures = []
    async with edge.client() as client:
        for _ in range(count):
            response = await client.post("/v1/auth:login", content=_LOGIN_JSON,
                                         headers={"content-type": "application/json"})
            if response.status_code != 200:
                failures.append(f"HTTP {response.status_code} {response.text[:120]}")
    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
        for _ in range(count):
            try:
                await stub.Login(auth_pb2.LoginRequest(email="ann@example.com",
                                                       password=PASSWORD), timeout=5)
            except grpc.aio.AioRpcError as error:
                failures.append(f"gRPC {error.code().name} {error.details()}")
    return failures


def _refused_cleanly(response: RawResponse) -> bool:
    """A poison's own answer: a 4xx / gRPC status other than INTERNAL and UNKNOWN, a success
    when the edge dropped the offending metadata, or a refusal by Envoy's HTTP/2 codec of a
    malformed request (RFC 9113 §8.1.1: a stream reset, or GOAWAY for a connection-level
    protocol error such as ``te: gzip``), which ends only the sender's own stream or
    connection; never a 5xx or INTERNAL from a service."""
    if (response.reset is not None or response.closed) and response.status == 0:
        return True
    if response.headers.get("content-type", "").startswith("application/grpc"):
        return response.grpc_status not in (None, 2, 13) or (
            response.grpc_status == 0 and response.status == 200)
    return 200 <= response.status < 500


async def test_poisoned_metadata_never_fails_other_clients(edge: Edge) -> None:
    assert await _well_formed_logins(edge, 5) == []
    context = _tls(edge)
    host, port = edge.address.split(":")
    answers = {}
    for _ in range(2):
        for name, (headers, body, trailers) in _poisons(edge).items():
            answers[name] = await raw_h2_request(host, int(port), ssl_context=context,
                                                 headers=headers, body=body,
                                                 trailers=trailers)

    async with edge.client() as http1:
        for headers in _http1_poisons():
            answer = await http1.post(LOGIN, content=_LOGIN_MESSAGE, headers=headers)
            answers[f"HTTP/1.1 {headers}"] = RawResponse(
                status=answer.status_code, headers=dict(answer.headers), body=answer.content)

    failures = await _well_formed_logins(edge, 30)

    assert failures == []
    unclean = {name: (a.status, a.grpc_status, a.headers.get("grpc-message"), a.body[:100], a.reset, a.closed)
               for name, a in answers.items() if not _refused_cleanly(a)}
    assert unclean == {}


async def test_request_trailers_never_reach_the_service(edge: Edge) -> None:
    context = _tls(edge)
    host, port = edge.address.split(":")
    response = await raw_h2_request(host, int(port), ssl_context=context,
                                    headers=_json(edge), body=_LOGIN_JSON,
                                    trailers=[("x-trailer", "seen")])

    assert response.status == 200, response
    assert "x-trailer" not in edge.stub.last_call("Login")


@pytest.mark.parametrize("timeout", ["garbage", "123456789S", "-1S", "1s", "1 S", ""])
async def test_a_malformed_grpc_timeout_never_reaches_a_service(edge: Edge,
                                                                timeout: str) -> None:
    context = _tls(edge)
    host, port = edge.address.split(":")
    answers = [await raw_h2_request(host, int(port), ssl_context=context,
                                    headers=_grpc(edge, path, grpc_timeout=timeout), body=body)
               for path, body in [(LOGIN, _LOGIN_MESSAGE), (REFLECTION, _LIST_SERVICES),
                                  ("/agora.user.v1.UserInternalService/CreateUser", b"")]]

    # Routed methods and reflection: the connection manager replaces the value with the
    # route's own deadline (max_stream_duration); elsewhere the guard refuses it.
    assert [answer.grpc_status for answer in answers] == [0, 0, 3], answers
    name, remaining = edge.stub.deadlines[-1]
    assert name == "Login" and remaining is not None and remaining <= 5


async def test_a_valid_grpc_timeout_is_capped_and_passed_on(edge: Edge) -> None:
    context = _tls(edge)
    host, port = edge.address.split(":")
    response = await raw_h2_request(host, int(port), ssl_context=context,
                                    headers=_grpc(edge, grpc_timeout="99999999H"),
                                    body=_LOGIN_MESSAGE)

    assert response.grpc_status == 0, response
    name, remaining = edge.stub.deadlines[-1]
    assert name == "Login" and remaining is not None and remaining <= 10

