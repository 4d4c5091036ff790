"""CatalogService and CatalogInternalService through generated stubs over mTLS: create,
get, list, replay, update with field mask and etag, the admin rule, the internal callers
rule, and a created product counted by the service's own consumer, errors."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.mtls import secure_channel
from pkg.testing import TokenMint, status_details
from services.catalog.tests.contract.conftest import bearer

ROUNDS = 200
"""Most statistics reads (0.05 s apart) while waiting for the consumer."""

pytestmark = pytest.mark.integration


def _create(display_name: str, request_id: str = "") -> catalog_pb2.CreateProductRequest:
    return catalog_pb2.CreateProductRequest(
        product=catalog_pb2.Product(display_name=display_name), request_id=request_id
    )


async def test_create_then_get_and_list(
    catalog: catalog_pb2_grpc.CatalogServiceStub, token_mint: TokenMint
) -> None:
    auth = bearer(token_mint.token())
    created = await catalog.CreateProduct(_create("Contract"), metadata=auth)
    assert created.name.startswith("products/") and created.display_name == "Contract"
    got = await catalog.GetProduct(catalog_pb2.GetProductRequest(name=created.name), metadata=auth)
    assert got == created
    listed = await catalog.ListProducts(
        catalog_pb2.ListProductsRequest(page_size=100), metadata=auth
    )
    assert created.name in [item.name for item in listed.products]


async def test_a_replayed_request_id_returns_the_same_product(
    catalog: catalog_pb2_grpc.CatalogServiceStub, token_mint: TokenMint
) -> None:
    auth, request_id = bearer(token_mint.token()), str(uuid.uuid4())
    first = await catalog.CreateProduct(_create("Once", request_id), metadata=auth)
    again = await catalog.CreateProduct(_create("Once", request_id), metadata=auth)
    assert again.name == first.name
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.CreateProduct(_create("Other", request_id), metadata=auth)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert status_details(caught.value)["error_info"].reason == "IDEMPOTENCY_KEY_REUSED"


async def test_an_unknown_product_is_not_found(
    catalog: catalog_pb2_grpc.CatalogServiceStub, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.GetProduct(
            catalog_pb2.GetProductRequest(name=f"products/{uuid.uuid4()}"),
            metadata=bearer(token_mint.token()),
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert status_details(caught.value)["error_info"].reason == "PRODUCT_NOT_FOUND"


async def test_bad_input_is_invalid_argument_with_the_field(
    catalog: catalog_pb2_grpc.CatalogServiceStub, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.CreateProduct(_create(""), metadata=bearer(token_mint.token()))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "product.display_name" in status_details(caught.value)["violations"]


async def test_no_token_is_unauthenticated(catalog: catalog_pb2_grpc.CatalogServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.ListProducts(catalog_pb2.ListProductsRequest())
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


def _update(name: str, display_name: str, etag: str = "") -> catalog_pb2.UpdateProductRequest:
    return catalog_pb2.UpdateProductRequest(
        product=catalog_pb2.Product(name=name, display_name=display_name, etag=etag),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )


async def test_update_with_the_current_etag_then_a_stale_one_is_aborted(
    catalog: catalog_pb2_grpc.CatalogServiceStub, token_mint: TokenMint
) -> None:
    auth = bearer(token_mint.token())
    created = await catalog.CreateProduct(_create("Before"), metadata=auth)
    updated = await catalog.UpdateProduct(
        _update(created.name, "After", created.etag), metadata=auth
    )
    assert (updated.display_name, updated.etag) == ("After", 'W/"2"')
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.UpdateProduct(_update(created.name, "Lost", created.etag), metadata=auth)
    assert caught.value.code() is grpc.StatusCode.ABORTED
    assert status_details(caught.value)["error_info"].reason == "ETAG_MISMATCH"


async def test_an_update_mask_naming_another_field_is_invalid(
    catalog: catalog_pb2_grpc.CatalogServiceStub, token_mint: TokenMint
) -> None:
    auth = bearer(token_mint.token())
    created = await catalog.CreateProduct(_create("Masked"), metadata=auth)
    request = _update(created.name, "X")
    request.update_mask.paths[:] = ["create_time"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.UpdateProduct(request, metadata=auth)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_statistics_are_for_admins_and_count_what_the_consumer_applied(
    catalog: catalog_pb2_grpc.CatalogServiceStub, token_mint: TokenMint
) -> None:
    request = catalog_pb2.GetProductStatisticsRequest()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.GetProductStatistics(request, metadata=bearer(token_mint.token()))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    admin = bearer(token_mint.token(roles=("admin",)))
    before = (await catalog.GetProductStatistics(request, metadata=admin)).created_count
    await catalog.CreateProduct(_create("Counted"), metadata=admin)
    count = before
    for _ in range(ROUNDS):
        count = (await catalog.GetProductStatistics(request, metadata=admin)).created_count
        if count > before:
            break
        await asyncio.sleep(0.05)
    assert count > before, "the consumer never counted the ProductCreated event"


async def test_the_internal_service_admits_only_its_callers(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    catalog_internal: catalog_pb2_grpc.CatalogInternalServiceStub,
    catalog_target: str,
    cert_dir: Path,
    token_mint: TokenMint,
) -> None:
    created = await catalog.CreateProduct(_create("Internal"), metadata=bearer(token_mint.token()))
    request = catalog_pb2.GetProductRequest(name=created.name)
    assert await catalog_internal.GetProduct(request) == created
    async with secure_channel(cert_dir, "edge", catalog_target, "catalog") as channel:
        stub = catalog_pb2_grpc.CatalogInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetProduct(request, metadata=bearer(token_mint.token()))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert status_details(caught.value)["error_info"].reason == "CALLER_NOT_ALLOWED"
