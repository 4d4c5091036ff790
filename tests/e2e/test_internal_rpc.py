"""Internal RPCs: invisible at the edge, and authorised by the caller's mTLS identity."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.testing import status_details

from ._api import PASSWORD, WRONG_PASSWORD, json_error, random_email
from ._grpc import mtls_channel
from ._mesh import Mesh

pytestmark = pytest.mark.e2e

CREATE_USER = "/agora.user.v1.UserInternalService/CreateUser"


def _create_request() -> user_pb2.CreateUserRequest:
    return user_pb2.CreateUserRequest(
        email=random_email(), password=PASSWORD, display_name="Sneaky"
    )


@pytest.mark.parametrize("path", ["/v1/users:create", "/v1/internal/users", CREATE_USER])
def test_no_http_route_reaches_create_user(http: httpx.Client, path: str) -> None:
    response = http.post(
        path, json={"email": random_email(), "password": PASSWORD, "displayName": "Sneaky"}
    )
    json_error(response, 404)


async def test_edge_answers_unimplemented_for_internal_grpc(edge_channel: grpc.aio.Channel) -> None:
    stub = user_pb2_grpc.UserInternalServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as created:
        await stub.CreateUser(_create_request(), timeout=10)
    assert created.value.code() == grpc.StatusCode.UNIMPLEMENTED, created.value
    with pytest.raises(grpc.aio.AioRpcError) as verified:
        await stub.VerifyCredentials(
            user_pb2.VerifyCredentialsRequest(email=random_email(), password=PASSWORD), timeout=10
        )
    assert verified.value.code() == grpc.StatusCode.UNIMPLEMENTED, verified.value


@pytest.mark.parametrize("identity", ["cli", "edge"])
async def test_user_service_refuses_other_callers(mesh: Mesh, identity: str) -> None:
    async with mtls_channel(mesh, "user", identity) as channel:
        stub = user_pb2_grpc.UserInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as created:
            await stub.CreateUser(_create_request(), timeout=10)
        assert created.value.code() == grpc.StatusCode.PERMISSION_DENIED, created.value
        assert status_details(created.value)["error_info"] is not None
        with pytest.raises(grpc.aio.AioRpcError) as verified:
            await stub.VerifyCredentials(
                user_pb2.VerifyCredentialsRequest(email=random_email(), password=PASSWORD),
                timeout=10,
            )
        assert verified.value.code() == grpc.StatusCode.PERMISSION_DENIED, verified.value


async def test_user_service_serves_the_auth_identity(mesh: Mesh, customer: dict[str, Any]) -> None:
    async with mtls_channel(mesh, "user", "auth") as channel:
        stub = user_pb2_grpc.UserInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as wrong:
            await stub.VerifyCredentials(
                user_pb2.VerifyCredentialsRequest(email=customer["email"], password=WRONG_PASSWORD),
                timeout=10,
            )
        assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED, wrong.value
        user = await stub.VerifyCredentials(
            user_pb2.VerifyCredentialsRequest(
                email=customer["email"], password=customer["password"]
            ),
            timeout=10,
        )
        assert user.name == customer["user"]["name"]
        assert user.email == customer["email"]


async def test_user_service_requires_a_client_certificate(mesh: Mesh) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=mesh.root_ca.read_bytes())
    async with grpc.aio.secure_channel(
        f"localhost:{mesh.service_port('user')}", credentials
    ) as channel:
        stub = user_pb2_grpc.UserInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.CreateUser(_create_request(), timeout=10)
    assert refused.value.code() in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    ), refused.value
