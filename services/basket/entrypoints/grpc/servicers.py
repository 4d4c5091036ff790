"""The gRPC servicers of ``agora.basket.v1``: request -> mapper -> use case -> mapper -> reply.

Access rules come from the contract (``agora.policy.v1.rule``) and are enforced by the
server's interceptors before these run.
"""

from __future__ import annotations

import grpc

from agora.basket.v1 import basket_pb2, basket_pb2_grpc
from pkg.fields import parse_request_id, request_fields
from pkg.server import require_principal
from services.basket.entrypoints.grpc import mappers
from services.basket.service import Baskets, Statistics

_CREATE_FIELDS = {"display_name": "basket.display_name"}
_UPDATE_FIELDS = {"display_name": "basket.display_name"}


class BasketServicer(basket_pb2_grpc.BasketServiceServicer):
    """``agora.basket.v1.BasketService``, for callers with an access token."""

    def __init__(self, baskets: Baskets, statistics: Statistics) -> None:
        self._baskets = baskets
        self._statistics = statistics

    async def CreateBasket(
        self, request: basket_pb2.CreateBasketRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """Idempotent per (token subject, request_id); INVALID_ARGUMENT (field violations,
        IDEMPOTENCY_KEY_REUSED)."""
        principal = require_principal()
        with request_fields(_CREATE_FIELDS):
            basket = await self._baskets.create_basket(
                display_name=request.basket.display_name,
                request_id=parse_request_id(request.request_id),
                scope=principal.subject,
            )
        return mappers.basket_to_proto(basket)

    async def GetBasket(
        self, request: basket_pb2.GetBasketRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """NOT_FOUND (BASKET_NOT_FOUND) when there is no such basket."""
        require_principal()
        basket = await self._baskets.get_basket(mappers.parse_basket_name(request.name))
        return mappers.basket_to_proto(basket)

    async def ListBaskets(
        self, request: basket_pb2.ListBasketsRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.ListBasketsResponse:
        """Newest first; INVALID_ARGUMENT for a bad page_token."""
        require_principal()
        page = await self._baskets.list_baskets(
            requested_size=request.page_size, page_token=request.page_token
        )
        return basket_pb2.ListBasketsResponse(
            baskets=[mappers.basket_to_proto(item) for item in page.baskets],
            next_page_token=page.next_page_token,
        )

    async def UpdateBasket(
        self, request: basket_pb2.UpdateBasketRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """ABORTED (ETAG_MISMATCH) for a stale etag, INVALID_ARGUMENT (update_mask,
        basket.display_name), NOT_FOUND."""
        require_principal()
        basket_id = mappers.parse_basket_name(request.basket.name, field="basket.name")
        with request_fields(_UPDATE_FIELDS):
            basket = await self._baskets.update_basket(
                basket_id,
                display_name=request.basket.display_name,
                fields=list(request.update_mask.paths),
                etag=request.basket.etag or None,
            )
        return mappers.basket_to_proto(basket)

    async def GetBasketStatistics(
        self, request: basket_pb2.GetBasketStatisticsRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.BasketStatistics:
        """Admins (the contract's rule); the counts the event consumer has applied."""
        require_principal()
        return basket_pb2.BasketStatistics(created_count=await self._statistics.created_count())


class BasketInternalServicer(basket_pb2_grpc.BasketInternalServiceServicer):
    """``agora.basket.v1.BasketInternalService``, for the services the contract's
    ``callers`` rule names (checked from the mTLS identity before this runs)."""

    def __init__(self, baskets: Baskets) -> None:
        self._baskets = baskets

    async def GetBasket(
        self, request: basket_pb2.GetBasketRequest, context: grpc.aio.ServicerContext
    ) -> basket_pb2.Basket:
        """NOT_FOUND (BASKET_NOT_FOUND) when there is no such basket."""
        basket = await self._baskets.get_basket(mappers.parse_basket_name(request.name))
        return mappers.basket_to_proto(basket)
