"""AuthService through generated stubs over mTLS, as a client sees it."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest

from agora.auth.v1 import auth_pb2
from agora.user.v1 import user_pb2
from pkg.server import JwksTokenVerifier
from pkg.testing import status_details
from services.auth.tests.contract.conftest import Auth

PASSWORD = "correct horse battery"
WRONG = "guess"


def register_request(email: str = "ann@example.com") -> auth_pb2.RegisterRequest:
    return auth_pb2.RegisterRequest(
        email=email,
        password=PASSWORD,
        display_name="Ann",
        roles=[user_pb2.ROLE_PROVIDER],
        request_id=str(uuid.uuid4()),
    )


async def fails(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_register_login_refresh_and_reuse(auth: Auth) -> None:
    registered = await auth.stub.Register(register_request())
    assert registered.user.name.startswith("users/")
    assert registered.user.roles == [user_pb2.ROLE_PROVIDER]
    assert registered.tokens.token_type == "Bearer"
    assert registered.tokens.expires_in == 900

    login = await auth.stub.Login(auth_pb2.LoginRequest(email="ANN@example.com", password=PASSWORD))
    refreshed = await auth.stub.Refresh(auth_pb2.RefreshRequest(refresh_token=login.refresh_token))
    assert refreshed.refresh_token != login.refresh_token

    reuse = await fails(
        auth.stub.Refresh(auth_pb2.RefreshRequest(refresh_token=login.refresh_token))
    )
    assert reuse.code() is grpc.StatusCode.UNAUTHENTICATED
    assert status_details(reuse)["error_info"].reason == "REFRESH_TOKEN_REUSED"
    newest = await fails(
        auth.stub.Refresh(auth_pb2.RefreshRequest(refresh_token=refreshed.refresh_token))
    )
    assert newest.code() is grpc.StatusCode.UNAUTHENTICATED
    assert await auth.stub.Refresh(
        auth_pb2.RefreshRequest(refresh_token=registered.tokens.refresh_token)
    )


async def test_register_without_request_id_sends_a_fresh_one(auth: Auth) -> None:
    request = register_request()
    request.ClearField("request_id")
    await auth.stub.Register(request)
    uuid.UUID(auth.users.created[-1].request_id)


async def test_bad_email_is_invalid_argument_naming_the_field(auth: Auth) -> None:
    error = await fails(auth.stub.Register(register_request("not-an-email")))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "email" in status_details(error)["violations"]
    assert auth.users.created == []


async def test_taken_email_is_already_exists(auth: Auth) -> None:
    await auth.stub.Register(register_request())
    error = await fails(auth.stub.Register(register_request("Ann@Example.com")))
    assert error.code() is grpc.StatusCode.ALREADY_EXISTS
    assert status_details(error)["error_info"].reason == "EMAIL_TAKEN"


async def test_failed_logins_are_throttled_with_retry_info(auth: Auth) -> None:
    auth.users.add("bob@example.com", PASSWORD)
    wrong = auth_pb2.LoginRequest(email="bob@example.com", password=WRONG)
    for _ in range(3):
        error = await fails(auth.stub.Login(wrong))
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    error = await fails(
        auth.stub.Login(auth_pb2.LoginRequest(email="bob@example.com", password=PASSWORD))
    )
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    details = status_details(error)
    assert details["error_info"].reason == "TOO_MANY_ATTEMPTS"
    assert 590 <= details["retry_info"].retry_delay.seconds <= 600


async def test_edge_calls_are_throttled_by_the_forwarded_client_address(auth: Auth) -> None:
    channel, edge = auth.stub_as("edge")
    try:
        for i in range(6):
            metadata = (("x-forwarded-for", f"10.0.0.{i}, 203.0.113.9"),)
            await fails(
                edge.Login(
                    auth_pb2.LoginRequest(email=f"u{i}@example.com", password=WRONG),
                    metadata=metadata,
                )
            )
        blocked = await fails(
            edge.Login(
                auth_pb2.LoginRequest(email="new@example.com", password=WRONG),
                metadata=(("x-forwarded-for", "203.0.113.9"),),
            )
        )
        assert blocked.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        other = await fails(
            edge.Login(
                auth_pb2.LoginRequest(email="new@example.com", password=WRONG),
                metadata=(("x-forwarded-for", "198.51.100.4"),),
            )
        )
        assert other.code() is grpc.StatusCode.UNAUTHENTICATED
    finally:
        await channel.close()
    not_edge = await fails(
        auth.stub.Login(
            auth_pb2.LoginRequest(email="new@example.com", password=WRONG),
            metadata=(("x-forwarded-for", "203.0.113.9"),),
        )
    )
    assert not_edge.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_jwks_is_json_that_verifies_issued_tokens(auth: Auth) -> None:
    registered = await auth.stub.Register(register_request())
    body = await auth.stub.GetJwks(auth_pb2.GetJwksRequest())
    assert body.content_type == "application/json"
    document = json.loads(body.data)
    assert [set(k) for k in document["keys"]] == [{"kty", "crv", "x", "y", "kid", "use", "alg"}]

    async def fetch() -> dict[str, object]:
        reply = await auth.stub.GetJwks(auth_pb2.GetJwksRequest())
        fetched: dict[str, object] = json.loads(reply.data)
        return fetched

    verifier = JwksTokenVerifier(fetch, issuer="https://auth.agora.local", audience="agora")
    principal = await verifier.verify(registered.tokens.access_token)
    assert f"users/{principal.subject}" == registered.user.name
    assert principal.roles == {"provider"}


async def test_logout_all_needs_a_token_and_ends_every_session(auth: Auth) -> None:
    registered = await auth.stub.Register(register_request())
    other = await auth.stub.Login(auth_pb2.LoginRequest(email="ann@example.com", password=PASSWORD))
    anonymous = await fails(auth.stub.LogoutAll(auth_pb2.LogoutAllRequest()))
    assert anonymous.code() is grpc.StatusCode.UNAUTHENTICATED

    bearer = (("authorization", f"Bearer {registered.tokens.access_token}"),)
    await auth.stub.LogoutAll(auth_pb2.LogoutAllRequest(), metadata=bearer)
    for pair in (registered.tokens, other):
        error = await fails(
            auth.stub.Refresh(auth_pb2.RefreshRequest(refresh_token=pair.refresh_token))
        )
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_logout_ends_one_session_and_is_idempotent(auth: Auth) -> None:
    registered = await auth.stub.Register(register_request())
    request = auth_pb2.LogoutRequest(refresh_token=registered.tokens.refresh_token)
    await auth.stub.Logout(request)
    await auth.stub.Logout(request)
    await auth.stub.Logout(auth_pb2.LogoutRequest(refresh_token="u" * 43))
    error = await fails(
        auth.stub.Refresh(auth_pb2.RefreshRequest(refresh_token=registered.tokens.refresh_token))
    )
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_a_register_replay_from_a_throttled_client_address_is_resource_exhausted(
    auth: Auth,
) -> None:
    request = register_request("replayed@example.com")
    assert (await auth.stub.Register(request)).tokens.access_token
    channel, edge = auth.stub_as("edge")
    try:
        for i in range(6):
            await fails(
                edge.Login(
                    auth_pb2.LoginRequest(email=f"u{i}@example.com", password=WRONG),
                    metadata=(("x-forwarded-for", "203.0.113.7"),),
                )
            )
        blocked = await fails(
            edge.Register(request, metadata=(("x-forwarded-for", "203.0.113.7"),))
        )
        elsewhere = await edge.Register(request, metadata=(("x-forwarded-for", "198.51.100.7"),))
    finally:
        await channel.close()
    assert blocked.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    details = status_details(blocked)
    assert details["error_info"].reason == "TOO_MANY_ATTEMPTS"
    assert details["error_info"].metadata["scope"] == "address"
    assert elsewhere.user.email == "replayed@example.com"


async def test_a_refresh_past_the_absolute_lifetime_is_session_expired(auth: Auth) -> None:
    error = await fails(
        auth.stub.Refresh(auth_pb2.RefreshRequest(refresh_token=f"{'x' * 43}.1000"))
    )
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert status_details(error)["error_info"].reason == "SESSION_EXPIRED"
    unknown = await fails(auth.stub.Refresh(auth_pb2.RefreshRequest(refresh_token="x" * 43)))
    assert status_details(unknown)["error_info"].reason == "INVALID_REFRESH_TOKEN"
