"""The basket service through its generated stubs: a customer's basket with totals, bad
input refused before the handler, another user's basket refused, the catalog's answers
and its outage, and the internal checkout read and clear for ``order`` only."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import money_pb2

from agora.basket.v1 import basket_pb2, basket_pb2_grpc
from agora.catalog.v1 import catalog_pb2
from pkg.testing import StandInCatalog, TokenMint, status_details
from services.basket.tests.contract.conftest import bearer

ME = "users/me/basket"


async def _failure(call: object) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    details = status_details(caught.value)
    info = details["error_info"]
    return caught.value.code(), info.reason if info else "", details["violations"]


async def test_a_customer_fills_their_basket_and_sees_totals(
    basket: basket_pb2_grpc.BasketServiceStub,
    catalog: tuple[str, StandInCatalog],
    token_mint: TokenMint,
) -> None:
    subject = str(uuid.uuid4())
    auth = bearer(token_mint.token(subject))
    kettle = catalog[1].add(title="Kettle")
    mug = catalog[1].add(title="Mug", price=money_pb2.Money(currency_code="EUR", units=3))
    await basket.AddBasketItem(
        basket_pb2.AddBasketItemRequest(basket=ME, product=kettle.name, quantity=2), metadata=auth
    )
    filled = await basket.AddBasketItem(
        basket_pb2.AddBasketItemRequest(
            basket=f"users/{subject}/basket", product=mug.name, quantity=1
        ),
        metadata=auth,
    )
    assert filled.name == f"users/{subject}/basket"
    assert [(i.title, i.quantity) for i in filled.items] == [("Kettle", 2), ("Mug", 1)]
    assert filled.items[0].line_total == money_pb2.Money(currency_code="EUR", units=25)
    assert filled.total == money_pb2.Money(currency_code="EUR", units=28)
    assert not filled.has_changes and filled.etag
    got = await basket.GetBasket(basket_pb2.GetBasketRequest(name=ME), metadata=auth)
    assert got == filled
    cleared = await basket.ClearBasket(basket_pb2.ClearBasketRequest(name=ME), metadata=auth)
    assert list(cleared.items) == [] and cleared.total.currency_code == "EUR"


async def test_bad_input_and_another_users_basket_are_refused(
    basket: basket_pb2_grpc.BasketServiceStub,
    catalog: tuple[str, StandInCatalog],
    token_mint: TokenMint,
) -> None:
    auth = bearer(token_mint.token(str(uuid.uuid4())))
    product = catalog[1].add(stock_quantity=3)
    for quantity in (0, 100):
        code, _, violations = await _failure(
            basket.AddBasketItem(
                basket_pb2.AddBasketItemRequest(basket=ME, product=product.name, quantity=quantity),
                metadata=auth,
            )
        )
        assert code is grpc.StatusCode.INVALID_ARGUMENT and "quantity" in violations
    other = f"users/{uuid.uuid4()}/basket"
    assert await _failure(
        basket.GetBasket(basket_pb2.GetBasketRequest(name=other), metadata=auth)
    ) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_ALLOWED",
        {},
    )
    unknown = f"products/{uuid.uuid4()}"
    code, reason, _ = await _failure(
        basket.AddBasketItem(
            basket_pb2.AddBasketItemRequest(basket=ME, product=unknown, quantity=1), metadata=auth
        )
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "PRODUCT_UNAVAILABLE")
    draft = catalog[1].add(state=catalog_pb2.Product.STATE_DRAFT)
    code, reason, _ = await _failure(
        basket.AddBasketItem(
            basket_pb2.AddBasketItemRequest(basket=ME, product=draft.name, quantity=1),
            metadata=auth,
        )
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PRODUCT_UNAVAILABLE")
    code, reason, _ = await _failure(
        basket.AddBasketItem(
            basket_pb2.AddBasketItemRequest(basket=ME, product=product.name, quantity=4),
            metadata=auth,
        )
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    code, reason, _ = await _failure(
        basket.UpdateBasketItemQuantity(
            basket_pb2.UpdateBasketItemQuantityRequest(basket=ME, product=product.name, quantity=2),
            metadata=auth,
        )
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "ITEM_NOT_FOUND")


async def test_the_catalog_down_is_unavailable_and_the_rest_is_served(
    basket: basket_pb2_grpc.BasketServiceStub,
    catalog: tuple[str, StandInCatalog],
    token_mint: TokenMint,
) -> None:
    auth = bearer(token_mint.token(str(uuid.uuid4())))
    product = catalog[1].add()
    catalog[1].up = False
    try:
        code, reason, _ = await _failure(
            basket.AddBasketItem(
                basket_pb2.AddBasketItemRequest(basket=ME, product=product.name, quantity=1),
                metadata=auth,
            )
        )
    finally:
        catalog[1].up = True
    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "CATALOG_UNAVAILABLE")
    assert catalog[1].calls[-1] == "basket"
    await basket.GetBasket(basket_pb2.GetBasketRequest(name=ME), metadata=auth)


async def test_checkout_reads_and_clears_the_basket_it_was_placed_from(
    basket: basket_pb2_grpc.BasketServiceStub,
    basket_internal: basket_pb2_grpc.BasketInternalServiceStub,
    catalog: tuple[str, StandInCatalog],
    token_mint: TokenMint,
) -> None:
    subject = str(uuid.uuid4())
    auth, name = bearer(token_mint.token(subject)), f"users/{subject}/basket"
    product = catalog[1].add()
    await basket.AddBasketItem(
        basket_pb2.AddBasketItemRequest(basket=ME, product=product.name, quantity=1), metadata=auth
    )
    seen = await basket_internal.GetBasketForCheckout(
        basket_pb2.GetBasketForCheckoutRequest(name=name)
    )
    assert [item.product for item in seen.items] == [product.name]
    changed = await basket.AddBasketItem(
        basket_pb2.AddBasketItemRequest(basket=ME, product=product.name, quantity=1), metadata=auth
    )
    kept = await basket_internal.ClearCheckedOutBasket(
        basket_pb2.ClearCheckedOutBasketRequest(name=name, etag=seen.etag)
    )
    assert kept == changed
    request = basket_pb2.ClearCheckedOutBasketRequest(name=name, etag=changed.etag)
    assert list((await basket_internal.ClearCheckedOutBasket(request)).items) == []
    assert list((await basket_internal.ClearCheckedOutBasket(request)).items) == []


async def test_the_internal_service_refuses_other_callers(
    basket_target: str, basket_certs: object
) -> None:
    from pkg.mtls import secure_channel

    async with secure_channel(basket_certs, "edge", basket_target, "basket") as channel:  # type: ignore[arg-type]
        stub = basket_pb2_grpc.BasketInternalServiceStub(channel)
        code, _, _ = await _failure(
            stub.GetBasketForCheckout(
                basket_pb2.GetBasketForCheckoutRequest(name=f"users/{uuid.uuid4()}/basket")
            )
        )
    assert code is grpc.StatusCode.PERMISSION_DENIED
