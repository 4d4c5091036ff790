"""Auth in front of a stand-in user service: errors pass through unchanged.

The stand-in runs on the shared ``GrpcServer`` (so it answers with the same status
details, and admits only the ``auth`` identity, as the real user service does); auth
reaches it through the real ``GrpcUserDirectory`` over mTLS.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import grpc
import jwt
import pytest
from google.protobuf import timestamp_pb2

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from agora.errors.v1.reasons import SharedReason
from agora.user.v1 import user_pb2, user_pb2_grpc
from agora.user.v1.reasons import UserReason
from pkg import errors
from pkg.config import MeshSettings
from pkg.mtls import secure_channel, server_credentials
from pkg.server import GrpcServer, Registration
from pkg.testing import TokenMint, serving, status_details
from services.auth.app import build
from services.auth.tests.contract.conftest import settings
from services.auth.tests.fakes import (
    FakeRequestLog,
    FakeSigningKeys,
    FakeThrottle,
    FakeTokenStore,
)

PASSWORD = "correct horse battery"
COMMON = "password123456"
WRONG = "nope"
CREATED = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


class _StandInReason(StrEnum):
    """A reason the stand-in answers with that the real user contract does not have."""

    WEAK_PASSWORD = "WEAK_PASSWORD"


class StandInUsers(user_pb2_grpc.UserInternalServiceServicer):
    def __init__(self) -> None:
        self.request_ids: list[str] = []

    def _user(self, email: str, roles: list[user_pb2.Role.ValueType]) -> user_pb2.User:
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(CREATED)
        return user_pb2.User(
            name=f"users/{uuid.uuid4()}",
            email=email,
            display_name="Ann",
            roles=roles or [user_pb2.ROLE_CUSTOMER],
            create_time=stamp,
            update_time=stamp,
            etag="etag-1",
        )

    async def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        self.request_ids.append(request.request_id)
        if request.email.startswith("taken"):
            raise errors.AlreadyExists(
                "a user with this email exists",
                reason=UserReason.EMAIL_TAKEN,
                metadata={"email": request.email},
            )
        if request.password.startswith("password"):
            raise errors.InvalidArgument(
                "the password is too common",
                reason=_StandInReason.WEAK_PASSWORD,
                violations=[errors.FieldViolation("password", "is too common", "PASSWORD_COMMON")],
            )
        return self._user(request.email, list(request.roles))

    async def VerifyCredentials(
        self, request: user_pb2.VerifyCredentialsRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        if request.password != PASSWORD:
            raise errors.Unauthenticated(
                "wrong email or password", reason=SharedReason.INVALID_CREDENTIALS
            )
        return self._user(request.email, [user_pb2.ROLE_ADMIN])


@pytest.fixture
async def stub(
    cert_dir: Path, token_mint: TokenMint
) -> AsyncIterator[tuple[auth_pb2_grpc.AuthServiceStub, StandInUsers]]:
    users = StandInUsers()
    user_server = GrpcServer(
        identity="user",
        listen="127.0.0.1:0",
        registrations=[
            Registration(
                "agora.user.v1.UserInternalService",
                users,
                user_pb2_grpc.add_UserInternalServiceServicer_to_server,
            )
        ],
        verifier=token_mint.verifier,
        credentials=server_credentials(cert_dir, "user"),
        grace=0,
    )
    async with serving(user_server) as user_target:
        mesh = MeshSettings(
            cert_dir=cert_dir,  # type: ignore[call-arg]
            endpoints={"user": user_target},
        )
        auth = build(
            settings(),
            mesh,
            tokens=FakeTokenStore(),
            throttle=FakeThrottle(),
            requests=FakeRequestLog(),
            keys=FakeSigningKeys(),
        )
        async with serving(auth) as target:
            channel = secure_channel(cert_dir, "cli", target, "auth")
            try:
                yield auth_pb2_grpc.AuthServiceStub(channel), users  # type: ignore[no-untyped-call]
            finally:
                await channel.close()


def register(
    email: str, password: str = PASSWORD, request_id: str = ""
) -> auth_pb2.RegisterRequest:
    return auth_pb2.RegisterRequest(
        email=email, password=password, display_name="Ann", request_id=request_id
    )


async def test_register_returns_the_user_service_user_and_passes_request_id(
    stub: tuple[auth_pb2_grpc.AuthServiceStub, StandInUsers],
) -> None:
    auth, users = stub
    request_id = str(uuid.uuid4())
    reply = await auth.Register(register("ann@example.com", request_id=request_id))
    assert users.request_ids == [request_id]
    assert reply.user.roles == [user_pb2.ROLE_CUSTOMER]
    assert reply.user.create_time.ToDatetime(UTC) == CREATED
    assert reply.user.etag == "etag-1"
    assert reply.tokens.access_token


async def test_already_exists_from_the_user_service_reaches_the_caller(
    stub: tuple[auth_pb2_grpc.AuthServiceStub, StandInUsers],
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub[0].Register(register("taken@example.com"))
    assert caught.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert caught.value.details() == "a user with this email exists"
    info = status_details(caught.value)["error_info"]
    assert (info.reason, dict(info.metadata)) == ("EMAIL_TAKEN", {"email": "taken@example.com"})


async def test_invalid_argument_from_the_user_service_keeps_its_field_violations(
    stub: tuple[auth_pb2_grpc.AuthServiceStub, StandInUsers],
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub[0].Register(register("ann@example.com", password=COMMON))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = status_details(caught.value)
    assert details["error_info"].reason == "WEAK_PASSWORD"
    assert details["violations"] == {"password": "is too common"}


async def test_login_maps_wrong_credentials_and_roles(
    stub: tuple[auth_pb2_grpc.AuthServiceStub, StandInUsers],
) -> None:
    auth, _ = stub
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.Login(auth_pb2.LoginRequest(email="ann@example.com", password=WRONG))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert status_details(caught.value)["error_info"].reason == "INVALID_CREDENTIALS"
    pair = await auth.Login(auth_pb2.LoginRequest(email="ann@example.com", password=PASSWORD))
    assert jwt.decode(pair.access_token, options={"verify_signature": False})["roles"] == ["admin"]


async def test_a_user_service_that_is_down_is_unavailable_without_internal_detail(
    cert_dir: Path,
) -> None:
    mesh = MeshSettings(
        cert_dir=cert_dir,  # type: ignore[call-arg]
        endpoints={"user": "127.0.0.1:1"},
    )
    auth = build(
        settings(),
        mesh,
        tokens=FakeTokenStore(),
        throttle=FakeThrottle(),
        requests=FakeRequestLog(),
        keys=FakeSigningKeys(),
    )
    async with serving(auth) as target:
        channel = secure_channel(cert_dir, "cli", target, "auth")
        try:
            stub = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Login(auth_pb2.LoginRequest(email="ann@example.com", password=PASSWORD))
        finally:
            await channel.close()
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "127.0.0.1" not in (caught.value.details() or "")
    assert status_details(caught.value)["error_info"].reason == "USER_UNAVAILABLE"
