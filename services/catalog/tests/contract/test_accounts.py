"""CreateProduct asks the user service whether the caller's account is active: the client
adapter (``GrpcAccounts``) through the generated ``UserService`` stub over mTLS, with the
caller's token forwarded, against the test kit's stand-in user service; a disabled
account is refused, the user service down or unreachable is UNAVAILABLE."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import grpc
import pytest

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import StandInUsers, TokenMint, serving, status_details
from services.catalog.app import build
from services.catalog.tests.contract.conftest import bearer, server_settings

pytestmark = pytest.mark.integration
CREATE = catalog_pb2.CreateProductRequest(product=catalog_pb2.Product(display_name="Account"))


async def test_an_active_account_creates_and_the_user_service_sees_that_caller(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    users: tuple[str, StandInUsers],
    token_mint: TokenMint,
) -> None:
    subject = str(uuid.uuid4())
    created = await catalog.CreateProduct(CREATE, metadata=bearer(token_mint.token(subject)))
    assert created.name.startswith("products/")
    assert ("catalog", subject) in users[1].calls


async def test_a_disabled_account_is_refused_while_its_token_lives(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    users: tuple[str, StandInUsers],
    token_mint: TokenMint,
) -> None:
    subject = str(uuid.uuid4())
    users[1].disabled.add(subject)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.CreateProduct(CREATE, metadata=bearer(token_mint.token(subject)))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert status_details(caught.value)["error_info"].reason == "ACCOUNT_DISABLED"


async def test_the_user_service_down_is_unavailable(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    users: tuple[str, StandInUsers],
    token_mint: TokenMint,
) -> None:
    users[1].up = False
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await catalog.CreateProduct(CREATE, metadata=bearer(token_mint.token()))
    finally:
        users[1].up = True
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert status_details(caught.value)["error_info"].reason == "USER_UNAVAILABLE"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_user_service_is_unavailable_within_the_deadline(
    migrated_database: str, redis_url: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    settings = server_settings(migrated_database, redis_url, user_timeout_seconds=0.5)
    mesh = MeshSettings.model_validate(
        {"cert_dir": cert_dir, "endpoints": {"user": f"127.0.0.1:{_closed_port()}"}}
    )
    async with (
        serving(build(settings, mesh, verifier=token_mint.verifier)) as target,
        secure_channel(cert_dir, "edge", target, "catalog") as channel,
    ):
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CreateProduct(CREATE, metadata=bearer(token_mint.token()), timeout=30)
        await stub.ListProducts(
            catalog_pb2.ListProductsRequest(), metadata=bearer(token_mint.token()), timeout=30
        )
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert status_details(caught.value)["error_info"].reason == "USER_UNAVAILABLE"


async def test_without_a_user_endpoint_the_service_does_not_build(
    migrated_database: str, redis_url: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    mesh = MeshSettings.model_validate({"cert_dir": cert_dir, "endpoints": {}})
    with pytest.raises(ValueError, match="'user'"):
        build(server_settings(migrated_database, redis_url), mesh, verifier=token_mint.verifier)
