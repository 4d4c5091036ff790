"""One client's malformed metadata never fails other clients' requests on the running mesh.

gRPC core may fail every later request on an HTTP/2 connection once one header block failed
to parse (grpc/grpc#34721), and the edge carries many clients' requests on one connection
per service worker. Each poisoned request is sent to both services, many times, through
every spelling ``pkg.testing.poison_requests`` knows; then well-formed requests of other
clients, over HTTP/1.1, HTTP/2 and gRPC, must all succeed.
"""

from __future__ import annotations

import ssl
from typing import Any

import grpc
import httpx
import pytest

from agora.auth.v1 import auth_pb2
from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.testing import (
    HTTP1_POISONS,
    RawResponse,
    grpc_frame,
    poison_requests,
    raw_h2_request,
    refused_cleanly,
)

from ._api import PASSWORD, bearer
from ._mesh import Mesh

pytestmark = pytest.mark.e2e

ROUNDS = 3
WELL_FORMED = 40


def _tls(mesh: Mesh) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(mesh.root_ca))
    context.set_alpn_protocols(["h2"])
    return context


async def _poison_everything(mesh: Mesh, customer: dict[str, Any]) -> dict[str, RawResponse]:
    token = customer["tokens"]["accessToken"]
    login = auth_pb2.LoginRequest(email=customer["email"], password=PASSWORD)
    get_user = user_pb2.GetUserRequest(name="users/me")
    targets = {
        "auth": poison_requests(
            mesh.edge_target,
            grpc_path="/agora.auth.v1.AuthService/Login",
            grpc_message=grpc_frame(login.SerializeToString()),
            json_path="/v1/auth:login",
            json_body=f'{{"email": "{customer["email"]}", "password": "{PASSWORD}"}}'.encode(),
        ),
        "user": poison_requests(
            mesh.edge_target,
            grpc_path="/agora.user.v1.UserService/GetUser",
            grpc_message=grpc_frame(get_user.SerializeToString()),
            extra=(("authorization", f"Bearer {token}"),),
        ),
    }
    answers: dict[str, RawResponse] = {}
    for _ in range(ROUNDS):
        for service, requests in targets.items():
            for name, request in requests.items():
                answers[f"{service}: {name}"] = await raw_h2_request(
                    "localhost",
                    mesh.edge_port,
                    ssl_context=_tls(mesh),
                    headers=request.headers,
                    body=request.body,
                    trailers=request.trailers,
                )
    return answers


def _http1_poisons(http: httpx.Client, token: str) -> dict[str, RawResponse]:
    answers = {}
    for headers in HTTP1_POISONS:
        response = http.post(
            "/agora.user.v1.UserService/GetUser",
            content=grpc_frame(b""),
            headers={**headers, **bearer(token)},
        )
        answers[f"HTTP/1.1 {headers}"] = RawResponse(
            status=response.status_code, headers=dict(response.headers)
        )
    return answers


def _well_formed_http(
    http: httpx.Client, http2: httpx.Client, customer: dict[str, Any]
) -> list[str]:
    """Other clients' requests over HTTP/1.1 and HTTP/2 to both services; the failures."""
    failures = []
    token = customer["tokens"]["accessToken"]
    for _ in range(WELL_FORMED):
        for client in (http, http2):
            for path in ("/v1/users/me", "/.well-known/jwks.json"):
                response = client.get(path, headers=bearer(token))
                if response.status_code != 200:
                    failures.append(f"{path} {response.status_code} {response.text[:100]}")
    for _ in range(10):
        response = http.post(
            "/v1/auth:login", json={"email": customer["email"], "password": PASSWORD}
        )
        if response.status_code != 200:
            failures.append(f"login {response.status_code} {response.text[:100]}")
    return failures


async def test_poisoned_metadata_never_fails_other_clients_requests(
    mesh: Mesh,
    http: httpx.Client,
    http2: httpx.Client,
    edge_channel: grpc.aio.Channel,
    customer: dict[str, Any],
) -> None:
    token = customer["tokens"]["accessToken"]
    answers = await _poison_everything(mesh, customer)
    answers.update(_http1_poisons(http, token))

    failures = _well_formed_http(http, http2, customer)
    stub = user_pb2_grpc.UserServiceStub(edge_channel)  # type: ignore[no-untyped-call]
    for _ in range(WELL_FORMED):
        try:
            await stub.GetUser(
                user_pb2.GetUserRequest(name="users/me"),
                timeout=5,
                metadata=(("authorization", f"Bearer {token}"),),
            )
        except grpc.aio.AioRpcError as error:
            failures.append(f"gRPC GetUser {error.code().name} {error.details()}")

    assert failures == []
    assert {name: answer for name, answer in answers.items() if not refused_cleanly(answer)} == {}
