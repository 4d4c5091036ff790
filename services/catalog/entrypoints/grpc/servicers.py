"""The gRPC servicers of ``agora.catalog.v1``: request -> mapper -> use case -> mapper -> reply.

Access rules come from the contract (``agora.policy.v1.rule``) and are enforced by the
server's interceptors before these run.
"""

from __future__ import annotations

import grpc

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.fields import parse_request_id, request_fields
from pkg.server import require_principal
from services.catalog.entrypoints.grpc import mappers
from services.catalog.service import Products, Statistics

_CREATE_FIELDS = {"display_name": "product.display_name"}
_UPDATE_FIELDS = {"display_name": "product.display_name"}


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    """``agora.catalog.v1.CatalogService``, for callers with an access token."""

    def __init__(self, products: Products, statistics: Statistics) -> None:
        self._products = products
        self._statistics = statistics

    async def CreateProduct(
        self, request: catalog_pb2.CreateProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """Idempotent per (token subject, request_id); INVALID_ARGUMENT (field violations,
        IDEMPOTENCY_KEY_REUSED)."""
        principal = require_principal()
        with request_fields(_CREATE_FIELDS):
            product = await self._products.create_product(
                display_name=request.product.display_name,
                request_id=parse_request_id(request.request_id),
                scope=principal.subject,
            )
        return mappers.product_to_proto(product)

    async def GetProduct(
        self, request: catalog_pb2.GetProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """NOT_FOUND (PRODUCT_NOT_FOUND) when there is no such product."""
        require_principal()
        product = await self._products.get_product(mappers.parse_product_name(request.name))
        return mappers.product_to_proto(product)

    async def ListProducts(
        self, request: catalog_pb2.ListProductsRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ListProductsResponse:
        """Newest first; INVALID_ARGUMENT for a bad page_token."""
        require_principal()
        page = await self._products.list_products(
            requested_size=request.page_size, page_token=request.page_token
        )
        return catalog_pb2.ListProductsResponse(
            products=[mappers.product_to_proto(item) for item in page.products],
            next_page_token=page.next_page_token,
        )

    async def UpdateProduct(
        self, request: catalog_pb2.UpdateProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """ABORTED (ETAG_MISMATCH) for a stale etag, INVALID_ARGUMENT (update_mask,
        product.display_name), NOT_FOUND."""
        require_principal()
        product_id = mappers.parse_product_name(request.product.name, field="product.name")
        with request_fields(_UPDATE_FIELDS):
            product = await self._products.update_product(
                product_id,
                display_name=request.product.display_name,
                fields=list(request.update_mask.paths),
                etag=request.product.etag or None,
            )
        return mappers.product_to_proto(product)

    async def GetProductStatistics(
        self, request: catalog_pb2.GetProductStatisticsRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ProductStatistics:
        """Admins (the contract's rule); the counts the event consumer has applied."""
        require_principal()
        return catalog_pb2.ProductStatistics(created_count=await self._statistics.created_count())


class CatalogInternalServicer(catalog_pb2_grpc.CatalogInternalServiceServicer):
    """``agora.catalog.v1.CatalogInternalService``, for the services the contract's
    ``callers`` rule names (checked from the mTLS identity before this runs)."""

    def __init__(self, products: Products) -> None:
        self._products = products

    async def GetProduct(
        self, request: catalog_pb2.GetProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """NOT_FOUND (PRODUCT_NOT_FOUND) when there is no such product."""
        product = await self._products.get_product(mappers.parse_product_name(request.name))
        return mappers.product_to_proto(product)
