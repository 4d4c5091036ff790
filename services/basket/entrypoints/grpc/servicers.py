"""The gRPC servicers of ``agora.basket.v1``: request -> mapper -> use case -> mapper -> reply.

Access rules come from the contract (``agora.policy.v1.rule``) and are enforced by the
server's interceptors before these run; a customer's basket is theirs only
(``services.basket.service.owner_of``).
"""

from __future__ import annotations

from uuid import UUID

import grpc

from agora.basket.v1 import basket_pb2, basket_pb2_grpc
from pkg.server import require_principal
from services.basket.entrypoints.grpc import mappers
from services.basket.service import Baskets, owner_of


def _owner(name: str, field: str) -> UUID:
    """The caller's own basket named by ``name``; PERMISSION_DENIED (NOT_ALLOWED) for
    another user's."""
    return owner_of(mappers.parse_basket_user(name, field=field), require_principal().subject)


class BasketServicer(basket_pb2_grpc.BasketServiceServicer):
    """``agora.basket.v1.BasketService``, for customers with an access token."""

    def __init__(self, baskets: Baskets) -> None:
        self._baskets = baskets

    async def GetBasket(
        self, request: basket_pb2.GetBasketRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """The caller's basket; an empty one when they have none."""
        basket = await self._baskets.get(_owner(request.name, "name"))
        return mappers.basket_to_proto(basket)

    async def AddBasketItem(
        self, request: basket_pb2.AddBasketItemRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """NOT_FOUND / FAILED_PRECONDITION (PRODUCT_UNAVAILABLE), FAILED_PRECONDITION
        (INSUFFICIENT_STOCK, BASKET_LIMIT), UNAVAILABLE (CATALOG_UNAVAILABLE)."""
        owner = _owner(request.basket, "basket")
        product_id = mappers.parse_product_name(request.product)
        basket = await self._baskets.add_item(owner, product_id, request.quantity)
        return mappers.basket_to_proto(basket)

    async def UpdateBasketItemQuantity(
        self,
        request: basket_pb2.UpdateBasketItemQuantityRequest,
        context: grpc.aio.ServicerContext,
    ) -> basket_pb2.Basket:
        """NOT_FOUND (ITEM_NOT_FOUND) when the basket has no line for the product."""
        owner = _owner(request.basket, "basket")
        product_id = mappers.parse_product_name(request.product)
        basket = await self._baskets.set_quantity(owner, product_id, request.quantity)
        return mappers.basket_to_proto(basket)

    async def RemoveBasketItem(
        self, request: basket_pb2.RemoveBasketItemRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """The basket without the line (unchanged when it had none)."""
        owner = _owner(request.basket, "basket")
        basket = await self._baskets.remove_item(owner, mappers.parse_product_name(request.product))
        return mappers.basket_to_proto(basket)

    async def ClearBasket(
        self, request: basket_pb2.ClearBasketRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """The empty basket."""
        basket = await self._baskets.clear(_owner(request.name, "name"))
        return mappers.basket_to_proto(basket)

    async def AcknowledgeBasketChanges(
        self,
        request: basket_pb2.AcknowledgeBasketChangesRequest,
        context: grpc.aio.ServicerContext,
    ) -> basket_pb2.Basket:
        """ABORTED (ETAG_MISMATCH) when ``etag`` is set and not current."""
        basket = await self._baskets.acknowledge(_owner(request.name, "name"), etag=request.etag)
        return mappers.basket_to_proto(basket)


class BasketInternalServicer(basket_pb2_grpc.BasketInternalServiceServicer):
    """``agora.basket.v1.BasketInternalService``, for the services the contract's
    ``callers`` rule names (checked from the mTLS identity before this runs)."""

    def __init__(self, baskets: Baskets) -> None:
        self._baskets = baskets

    async def GetBasketForCheckout(
        self, request: basket_pb2.GetBasketForCheckoutRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """The user's basket as it is (empty when they have none)."""
        basket = await self._baskets.get(mappers.parse_basket_owner(request.name))
        return mappers.basket_to_proto(basket)

    async def ClearCheckedOutBasket(
        self,
        request: basket_pb2.ClearCheckedOutBasketRequest,
        context: grpc.aio.ServicerContext,
    ) -> basket_pb2.Basket:
        """Empties the basket if ``etag`` (when set) is current; returns it as it is now."""
        owner = mappers.parse_basket_owner(request.name)
        basket = await self._baskets.clear(owner, etag=request.etag)
        return mappers.basket_to_proto(basket)
