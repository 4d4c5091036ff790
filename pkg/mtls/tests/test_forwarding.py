"""Acting for the caller: a service forwards the verified access token of the request it
serves to a peer (``forwarded_authorization``), and the peer sees the same caller; the
stand-in user service of the test kit answers that caller's account state."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from pathlib import Path

import grpc
import pytest

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg import errors
from pkg.mtls import client, forwarded_authorization, secure_channel, server_credentials
from pkg.principal import Principal, bind_principal, current_access_token, unbind_principal
from pkg.server import GrpcServer, Registration
from pkg.testing import StandInUsers, TokenMint, serving, serving_users, status_details


class _Front(user_pb2_grpc.UserServiceServicer):
    """A service whose ``GetUser`` asks ``peer`` for ``users/me`` on the caller's behalf."""

    def __init__(self, peer: user_pb2_grpc.UserServiceStub) -> None:
        self.peer = peer

    async def GetUser(
        self, request: user_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        user: user_pb2.User = await self.peer.GetUser(
            user_pb2.GetUserRequest(name="users/me"), metadata=forwarded_authorization(), timeout=10
        )
        return user


def _bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def test_outside_a_verified_request_there_is_nothing_to_forward() -> None:
    with pytest.raises(errors.Unauthenticated) as caught:
        forwarded_authorization()
    assert caught.value.reason == "TOKEN_MISSING"
    principal = Principal(subject="u1", roles=frozenset(), token_id="t", expires_at=0.0)
    bound = bind_principal(principal, "jwt-text")
    try:
        assert current_access_token() == "jwt-text"
        assert forwarded_authorization() == (("authorization", "Bearer jwt-text"),)
    finally:
        unbind_principal(bound)
    assert current_access_token() == ""
    unverified = bind_principal(None, "jwt-text")
    try:
        assert current_access_token() == ""
    finally:
        unbind_principal(unverified)


async def test_the_peer_sees_the_caller_whose_token_was_forwarded(
    cert_dir: Path, token_mint: TokenMint
) -> None:
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    async with (
        serving_users(cert_dir, token_mint) as (user_target, users),
        AsyncExitStack() as stack,
    ):
        peer = client(stack, cert_dir, "auth", user_target, "user", user_pb2_grpc.UserServiceStub)
        front = GrpcServer(
            identity="auth",
            listen="127.0.0.1:0",
            verifier=token_mint.verifier,
            credentials=server_credentials(cert_dir, "auth"),
            grace=0.5,
            registrations=[
                Registration(
                    "agora.user.v1.UserService",
                    _Front(peer.stub),
                    user_pb2_grpc.add_UserServiceServicer_to_server,
                )
            ],
        )
        async with (
            serving(front) as target,
            secure_channel(cert_dir, "edge", target, "auth") as channel,
        ):
            stub = user_pb2_grpc.UserServiceStub(channel)
            request = user_pb2.GetUserRequest(name=f"users/{uuid.uuid4()}")
            user = await stub.GetUser(
                request, metadata=_bearer(token_mint.token(alice)), timeout=10
            )
            users.disabled.add(bob)
            disabled = await stub.GetUser(
                request, metadata=_bearer(token_mint.token(bob)), timeout=10
            )
    assert (user.name, user.state) == (f"users/{alice}", user_pb2.User.STATE_ACTIVE)
    assert (disabled.name, disabled.state) == (f"users/{bob}", user_pb2.User.STATE_DISABLED)
    assert users.calls == [("auth", alice), ("auth", bob)]


async def test_the_stand_in_refuses_calls_without_a_token_and_can_be_down(
    cert_dir: Path, token_mint: TokenMint
) -> None:
    users: StandInUsers
    async with (
        serving_users(cert_dir, token_mint) as (target, users),
        secure_channel(cert_dir, "auth", target, "user") as channel,
    ):
        stub = user_pb2_grpc.UserServiceStub(channel)
        me = user_pb2.GetUserRequest(name="users/me")
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await stub.GetUser(me, timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as other:
            await stub.GetUser(
                user_pb2.GetUserRequest(name=f"users/{uuid.uuid4()}"),
                metadata=_bearer(token_mint.token()),
                timeout=10,
            )
        users.up = False
        with pytest.raises(grpc.aio.AioRpcError) as down:
            await stub.GetUser(me, metadata=_bearer(token_mint.token()), timeout=10)
    assert anonymous.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert other.value.code() is grpc.StatusCode.NOT_FOUND
    assert status_details(other.value)["error_info"].reason == "USER_NOT_FOUND"
    assert down.value.code() is grpc.StatusCode.UNAVAILABLE
