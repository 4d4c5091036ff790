"""The shared interceptors, through a real mTLS server and generated stubs."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from agora.errors.v1.reasons import SharedReason
from agora.user.v1 import user_pb2, user_pb2_grpc
from agora.user.v1.reasons import UserReason
from pkg import errors
from pkg.mtls import secure_channel, server_credentials
from pkg.server import GrpcServer, Registration, require_principal
from pkg.testing import TokenMint, log_lines, serving, status_details


class _Users(user_pb2_grpc.UserServiceServicer, user_pb2_grpc.UserInternalServiceServicer):
    """A servicer whose behaviour each test picks through the request."""

    async def GetUser(self, request, context):  # type: ignore[no-untyped-def]
        principal = require_principal()
        if request.name == "users/00000000-0000-0000-0000-000000000000":
            raise errors.NotFound("no such user", reason=UserReason.USER_NOT_FOUND)
        if request.name == "users/11111111-1111-1111-1111-111111111111":
            raise RuntimeError("boom: secret detail")
        if request.name == "users/22222222-2222-2222-2222-222222222222":
            raise errors.ResourceExhausted("slow down", retry_after=7.5)
        return user_pb2.User(name=f"users/{principal.subject}", roles=[user_pb2.ROLE_CUSTOMER])

    async def ListUsers(self, request, context):  # type: ignore[no-untyped-def]
        return user_pb2.ListUsersResponse()

    async def UpdateUser(self, request, context):  # type: ignore[no-untyped-def]
        return request.user

    async def CreateUser(self, request, context):  # type: ignore[no-untyped-def]
        return user_pb2.User(name="users/created", email=request.email)


@pytest.fixture
async def target(cert_dir: Path, token_mint: TokenMint):  # type: ignore[no-untyped-def]
    servicer = _Users()
    server = GrpcServer(
        identity="user",
        listen="127.0.0.1:0",
        verifier=token_mint.verifier,
        credentials=server_credentials(cert_dir, "user"),
        registrations=[
            Registration(
                "agora.user.v1.UserService",
                servicer,
                user_pb2_grpc.add_UserServiceServicer_to_server,
            ),
            Registration(
                "agora.user.v1.UserInternalService",
                servicer,
                user_pb2_grpc.add_UserInternalServiceServicer_to_server,
            ),
        ],
    )
    async with serving(server) as address:
        yield address


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def test_valid_token_reaches_the_handler_with_its_principal(
    target: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        user = await stub.GetUser(
            user_pb2.GetUserRequest(name="users/me"), metadata=_bearer(token_mint.token("abc"))
        )
    assert user.name == "users/abc"


@pytest.mark.parametrize(
    "metadata, reason",
    [
        ((), "TOKEN_MISSING"),
        ((("authorization", "Basic abc"),), "TOKEN_MALFORMED"),
        ((("authorization", "Bearer not-a-jwt"),), "TOKEN_INVALID"),
    ],
)
async def test_missing_or_bad_tokens_are_unauthenticated(
    target: str, cert_dir: Path, metadata: tuple[tuple[str, str], ...], reason: str
) -> None:
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetUser(user_pb2.GetUserRequest(name="users/me"), metadata=metadata)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert status_details(caught.value)["error_info"].reason == reason


async def test_expired_wrong_audience_and_foreign_key_tokens_are_refused(
    target: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    tokens = {
        "TOKEN_EXPIRED": token_mint.token(ttl=-120),
        "TOKEN_INVALID": token_mint.token(aud="someone-else"),
    }
    foreign = token_mint.token(key=ec.generate_private_key(ec.SECP256R1()))
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        for reason, token in [*tokens.items(), ("TOKEN_INVALID", foreign)]:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetUser(
                    user_pb2.GetUserRequest(name="users/me"), metadata=_bearer(token)
                )
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert status_details(caught.value)["error_info"].reason == reason


async def test_role_rule_refuses_a_customer(
    target: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListUsers(
                user_pb2.ListUsersRequest(), metadata=_bearer(token_mint.token(roles=["customer"]))
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        await stub.ListUsers(
            user_pb2.ListUsersRequest(), metadata=_bearer(token_mint.token(roles=["admin"]))
        )


async def test_internal_rpc_is_refused_for_callers_the_policy_does_not_name(
    target: str, cert_dir: Path
) -> None:
    request = user_pb2.CreateUserRequest(email="a@example.com", password="x" * 12, display_name="A")
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await user_pb2_grpc.UserInternalServiceStub(channel).CreateUser(request)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert status_details(caught.value)["error_info"].reason == "CALLER_NOT_ALLOWED"
    async with secure_channel(cert_dir, "auth", target, "user") as channel:
        user = await user_pb2_grpc.UserInternalServiceStub(channel).CreateUser(request)
    assert user.email == "a@example.com"


async def test_invalid_requests_name_each_bad_field(target: str, cert_dir: Path) -> None:
    request = user_pb2.CreateUserRequest(
        email="not-an-email", password="short", display_name="", roles=[user_pb2.ROLE_ADMIN]
    )
    async with secure_channel(cert_dir, "auth", target, "user") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await user_pb2_grpc.UserInternalServiceStub(channel).CreateUser(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = status_details(caught.value)["violations"]
    assert set(violations) == {"email", "password", "display_name", "roles[0]"}


async def test_update_mask_outside_the_mutable_fields_is_invalid(
    target: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    request = user_pb2.UpdateUserRequest(
        user=user_pb2.User(name="users/me", display_name="New"),
        update_mask=field_mask_pb2.FieldMask(paths=["email"]),
    )
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await user_pb2_grpc.UserServiceStub(channel).UpdateUser(
                request, metadata=_bearer(token_mint.token())
            )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "update_mask" in status_details(caught.value)["violations"]


async def test_domain_errors_map_to_codes_and_unexpected_ones_hide_details(
    target: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    cases = {
        "users/00000000-0000-0000-0000-000000000000": grpc.StatusCode.NOT_FOUND,
        "users/11111111-1111-1111-1111-111111111111": grpc.StatusCode.INTERNAL,
        "users/22222222-2222-2222-2222-222222222222": grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        for name, code in cases.items():
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetUser(
                    user_pb2.GetUserRequest(name=name), metadata=_bearer(token_mint.token())
                )
            assert caught.value.code() == code
            assert "secret detail" not in (caught.value.details() or "")
            assert "Traceback" not in (caught.value.details() or "")
            if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                delay = status_details(caught.value)["retry_info"].retry_delay
                assert delay.seconds == 7 and delay.nanos == 500_000_000
                assert ("retry-after", "8") in tuple(caught.value.trailing_metadata() or ())


async def test_request_id_is_echoed(target: str, cert_dir: Path, token_mint: TokenMint) -> None:
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        call = user_pb2_grpc.UserServiceStub(channel).GetUser(
            user_pb2.GetUserRequest(name="users/me"),
            metadata=(*_bearer(token_mint.token()), ("x-request-id", "req-42")),
        )
        await call
        assert ("x-request-id", "req-42") in tuple(await call.trailing_metadata())
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await user_pb2_grpc.UserServiceStub(channel).GetUser(
                user_pb2.GetUserRequest(name="users/00000000-0000-0000-0000-000000000000"),
                metadata=(*_bearer(token_mint.token()), ("x-request-id", "req-43")),
            )
        assert ("x-request-id", "req-43") in tuple(caught.value.trailing_metadata() or ())


async def test_caching_verifier_verifies_once_and_refuses_after_expiry() -> None:
    from pkg.server import CachingTokenVerifier, Principal

    calls: list[str] = []
    now = [1000.0]

    class Inner:
        async def verify(self, token: str) -> Principal:
            calls.append(token)
            if now[0] >= 1060.0:
                raise errors.Unauthenticated("expired", reason=SharedReason.TOKEN_EXPIRED)
            return Principal("s", frozenset(), "j", expires_at=1060.0)

    verifier = CachingTokenVerifier(Inner(), max_entries=2, clock=lambda: now[0])
    assert (await verifier.verify("a")).subject == "s"
    await verifier.verify("a")
    assert calls == ["a"]
    await verifier.verify("b")
    await verifier.verify("c")
    await verifier.verify("a")
    assert calls == ["a", "b", "c", "a"]
    now[0] = 1060.0
    with pytest.raises(errors.Unauthenticated):
        await verifier.verify("a")


async def test_each_call_is_logged_to_the_log_file_but_health_checks_are_not(
    target: str, cert_dir: Path, token_mint: TokenMint, log_file: Path
) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        await health.Check(health_pb2.HealthCheckRequest())
        await user_pb2_grpc.UserServiceStub(channel).GetUser(
            user_pb2.GetUserRequest(name="users/me"),
            metadata=(
                *_bearer(token_mint.token()),
                ("x-request-id", "req-7"),
                ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ),
        )
        await health.Check(health_pb2.HealthCheckRequest())
    finished = [line for line in log_lines(log_file) if line["message"] == "rpc finished"]
    assert len(finished) == 1
    line = finished[0]
    assert line["rpc"] == "/agora.user.v1.UserService/GetUser"
    assert (line["service"], line["level"], line["code"]) == ("user", "INFO", "OK")
    assert (line["request_id"], line["trace_id"], line["span_id"]) == (
        "req-7",
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
    )
    assert line["caller"] == "edge"
    assert isinstance(line["duration_ms"], float)
    assert str(line["time"]).endswith("Z")


async def test_a_call_without_ids_gets_one_random_id_for_request_and_trace(
    target: str, cert_dir: Path, token_mint: TokenMint, log_file: Path
) -> None:
    async with secure_channel(cert_dir, "edge", target, "user") as channel:
        ids = []
        for _ in range(2):
            call = user_pb2_grpc.UserServiceStub(channel).GetUser(
                user_pb2.GetUserRequest(name="users/me"), metadata=_bearer(token_mint.token())
            )
            await call
            ids.append(dict(tuple(await call.trailing_metadata()))["x-request-id"])
    assert ids[0] != ids[1]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    finished = [line for line in log_lines(log_file) if line["message"] == "rpc finished"]
    assert [(line["request_id"], line["trace_id"], "span_id" in line) for line in finished] == [
        (i, i, False) for i in ids
    ]
