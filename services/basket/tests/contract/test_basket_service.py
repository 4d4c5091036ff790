"""BasketService and BasketInternalService through generated stubs over mTLS: create,
get, list, replay, update with field mask and etag, the admin rule, the internal callers
rule, and a created basket counted by the service's own consumer, errors."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from agora.basket.v1 import basket_pb2, basket_pb2_grpc
from pkg.mtls import secure_channel
from pkg.testing import TokenMint, status_details
from services.basket.tests.contract.conftest import bearer

ROUNDS = 200
"""Most statistics reads (0.05 s apart) while waiting for the consumer."""

pytestmark = pytest.mark.integration


def _create(display_name: str, request_id: str = "") -> basket_pb2.CreateBasketRequest:
    return basket_pb2.CreateBasketRequest(
        basket=basket_pb2.Basket(display_name=display_name), request_id=request_id
    )


async def test_create_then_get_and_list(
    basket: basket_pb2_grpc.BasketServiceStub, token_mint: TokenMint
) -> None:
    auth = bearer(token_mint.token())
    created = await basket.CreateBasket(_create("Contract"), metadata=auth)
    assert created.name.startswith("baskets/") and created.display_name == "Contract"
    got = await basket.GetBasket(basket_pb2.GetBasketRequest(name=created.name), metadata=auth)
    assert got == created
    listed = await basket.ListBaskets(basket_pb2.ListBasketsRequest(page_size=100), metadata=auth)
    assert created.name in [item.name for item in listed.baskets]


async def test_a_replayed_request_id_returns_the_same_basket(
    basket: basket_pb2_grpc.BasketServiceStub, token_mint: TokenMint
) -> None:
    auth, request_id = bearer(token_mint.token()), str(uuid.uuid4())
    first = await basket.CreateBasket(_create("Once", request_id), metadata=auth)
    again = await basket.CreateBasket(_create("Once", request_id), metadata=auth)
    assert again.name == first.name
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await basket.CreateBasket(_create("Other", request_id), metadata=auth)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert status_details(caught.value)["error_info"].reason == "IDEMPOTENCY_KEY_REUSED"


async def test_an_unknown_basket_is_not_found(
    basket: basket_pb2_grpc.BasketServiceStub, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await basket.GetBasket(
            basket_pb2.GetBasketRequest(name=f"baskets/{uuid.uuid4()}"),
            metadata=bearer(token_mint.token()),
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert status_details(caught.value)["error_info"].reason == "BASKET_NOT_FOUND"


async def test_bad_input_is_invalid_argument_with_the_field(
    basket: basket_pb2_grpc.BasketServiceStub, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await basket.CreateBasket(_create(""), metadata=bearer(token_mint.token()))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "basket.display_name" in status_details(caught.value)["violations"]


async def test_no_token_is_unauthenticated(basket: basket_pb2_grpc.BasketServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await basket.ListBaskets(basket_pb2.ListBasketsRequest())
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


def _update(name: str, display_name: str, etag: str = "") -> basket_pb2.UpdateBasketRequest:
    return basket_pb2.UpdateBasketRequest(
        basket=basket_pb2.Basket(name=name, display_name=display_name, etag=etag),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )


async def test_update_with_the_current_etag_then_a_stale_one_is_aborted(
    basket: basket_pb2_grpc.BasketServiceStub, token_mint: TokenMint
) -> None:
    auth = bearer(token_mint.token())
    created = await basket.CreateBasket(_create("Before"), metadata=auth)
    updated = await basket.UpdateBasket(_update(created.name, "After", created.etag), metadata=auth)
    assert (updated.display_name, updated.etag) == ("After", 'W/"2"')
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await basket.UpdateBasket(_update(created.name, "Lost", created.etag), metadata=auth)
    assert caught.value.code() is grpc.StatusCode.ABORTED
    assert status_details(caught.value)["error_info"].reason == "ETAG_MISMATCH"


async def test_an_update_mask_naming_another_field_is_invalid(
    basket: basket_pb2_grpc.BasketServiceStub, token_mint: TokenMint
) -> None:
    auth = bearer(token_mint.token())
    created = await basket.CreateBasket(_create("Masked"), metadata=auth)
    request = _update(created.name, "X")
    request.update_mask.paths[:] = ["create_time"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await basket.UpdateBasket(request, metadata=auth)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_statistics_are_for_admins_and_count_what_the_consumer_applied(
    basket: basket_pb2_grpc.BasketServiceStub, token_mint: TokenMint
) -> None:
    request = basket_pb2.GetBasketStatisticsRequest()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await basket.GetBasketStatistics(request, metadata=bearer(token_mint.token()))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    admin = bearer(token_mint.token(roles=("admin",)))
    before = (await basket.GetBasketStatistics(request, metadata=admin)).created_count
    await basket.CreateBasket(_create("Counted"), metadata=admin)
    count = before
    for _ in range(ROUNDS):
        count = (await basket.GetBasketStatistics(request, metadata=admin)).created_count
        if count > before:
            break
        await asyncio.sleep(0.05)
    assert count > before, "the consumer never counted the BasketCreated event"


async def test_the_internal_service_admits_only_its_callers(
    basket: basket_pb2_grpc.BasketServiceStub,
    basket_internal: basket_pb2_grpc.BasketInternalServiceStub,
    basket_target: str,
    cert_dir: Path,
    token_mint: TokenMint,
) -> None:
    created = await basket.CreateBasket(_create("Internal"), metadata=bearer(token_mint.token()))
    request = basket_pb2.GetBasketRequest(name=created.name)
    assert await basket_internal.GetBasket(request) == created
    async with secure_channel(cert_dir, "edge", basket_target, "basket") as channel:
        stub = basket_pb2_grpc.BasketInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetBasket(request, metadata=bearer(token_mint.token()))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert status_details(caught.value)["error_info"].reason == "CALLER_NOT_ALLOWED"
