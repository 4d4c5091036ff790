"""Native gRPC through the edge: generated stubs over TLS, and grpcurl with reflection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.testing import status_details

from ._api import PASSWORD, WRONG_PASSWORD, random_email
from ._grpc import grpcurl
from ._mesh import Mesh

pytestmark = pytest.mark.e2e


async def test_login_and_get_user_with_stubs(
    edge_channel: grpc.aio.Channel, customer: dict[str, Any]
) -> None:
    auth = auth_pb2_grpc.AuthServiceStub(edge_channel)
    pair = await auth.Login(
        auth_pb2.LoginRequest(email=customer["email"], password=customer["password"]), timeout=10
    )
    assert pair.token_type == "Bearer"
    assert pair.access_token and pair.refresh_token

    users = user_pb2_grpc.UserServiceStub(edge_channel)
    me = await users.GetUser(
        user_pb2.GetUserRequest(name="users/me"),
        timeout=10,
        metadata=(("authorization", f"Bearer {pair.access_token}"),),
    )
    assert me.email == customer["email"]
    assert me.name == customer["user"]["name"]
    assert user_pb2.ROLE_CUSTOMER in me.roles

    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await users.GetUser(user_pb2.GetUserRequest(name="users/me"), timeout=10)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED, anonymous.value


async def test_register_validation_details_reach_grpc_clients(
    edge_channel: grpc.aio.Channel,
) -> None:
    auth = auth_pb2_grpc.AuthServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await auth.Register(
            auth_pb2.RegisterRequest(email="not-an-email", password=PASSWORD, display_name="gRPC"),
            timeout=10,
        )
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT, invalid.value
    assert "email" in status_details(invalid.value)["violations"]


async def test_wrong_password_over_grpc(
    edge_channel: grpc.aio.Channel, customer: dict[str, Any]
) -> None:
    auth = auth_pb2_grpc.AuthServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as wrong:
        await auth.Login(
            auth_pb2.LoginRequest(email=customer["email"], password=WRONG_PASSWORD), timeout=10
        )
    assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED, wrong.value


def test_grpcurl_lists_the_public_services(mesh: Mesh) -> None:
    result = grpcurl(mesh, "list")
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {"agora.auth.v1.AuthService", "agora.user.v1.UserService"} <= services, result.stdout
    assert "agora.user.v1.UserInternalService" not in services, result.stdout
    hidden = grpcurl(mesh, "describe", "agora.user.v1.UserInternalService")
    assert hidden.returncode != 0, hidden.stdout


def test_grpcurl_through_the_edge_sees_no_internal_message(mesh: Mesh, tmp_path: Path) -> None:
    for internal in ("agora.user.v1.VerifyCredentialsRequest", "agora.user.v1.CreateUserRequest"):
        hidden = grpcurl(mesh, "describe", internal)
        assert hidden.returncode != 0, hidden.stdout
        assert "not found" in hidden.stderr.lower(), hidden.stderr
    shown = grpcurl(mesh, "describe", "agora.user.v1.GetUserRequest")
    assert shown.returncode == 0, shown.stderr
    assert "string name = 1" in shown.stdout, shown.stdout
    protoset = tmp_path / "public.binpb"
    described = grpcurl(mesh, "describe", flags=("-protoset-out", str(protoset)))
    assert described.returncode == 0, described.stderr
    files = descriptor_pb2.FileDescriptorSet.FromString(protoset.read_bytes()).file
    messages = {f"{f.package}.{m.name}" for f in files for m in f.message_type}
    assert "agora.user.v1.GetUserRequest" in messages and "agora.auth.v1.LoginRequest" in messages
    assert not messages & {
        "agora.user.v1.VerifyCredentialsRequest",
        "agora.user.v1.CreateUserRequest",
    }, sorted(messages)


def test_grpcurl_describes_auth_service(mesh: Mesh) -> None:
    result = grpcurl(mesh, "describe", "agora.auth.v1.AuthService")
    assert result.returncode == 0, result.stderr
    assert (
        "rpc Login ( .agora.auth.v1.LoginRequest ) returns ( .agora.auth.v1.TokenPair )"
        in result.stdout
    ), result.stdout
    assert "rpc Register" in result.stdout


def test_grpcurl_calls_login(mesh: Mesh, customer: dict[str, Any]) -> None:
    request = json.dumps({"email": customer["email"], "password": customer["password"]})
    result = grpcurl(mesh, "agora.auth.v1.AuthService/Login", data=request)
    assert result.returncode == 0, result.stderr
    pair = json.loads(result.stdout)
    assert pair["tokenType"] == "Bearer"
    assert pair["accessToken"].count(".") == 2


def test_grpcurl_sees_the_error_of_a_bad_login(mesh: Mesh) -> None:
    request = json.dumps({"email": random_email(), "password": WRONG_PASSWORD})
    result = grpcurl(mesh, "agora.auth.v1.AuthService/Login", data=request)
    assert result.returncode != 0
    assert "Unauthenticated" in result.stdout + result.stderr, result.stdout + result.stderr
