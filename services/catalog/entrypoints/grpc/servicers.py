"""The gRPC servicers of ``agora.catalog.v1``: request -> mapper -> use case -> mapper -> reply.

Access rules come from the contract (``agora.policy.v1.rule``) and are enforced by the
server's interceptors before these run; the public reads bind the caller's principal when a
valid token was sent, which is how an admin sees DRAFT and ARCHIVED products.
"""

from __future__ import annotations

import grpc

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.fields import parse_request_id, update_mask_fields
from pkg.filtering import ListRequest
from pkg.server import current_principal, require_principal
from services.catalog.domain import UPDATABLE_FIELDS
from services.catalog.entrypoints.grpc import mappers
from services.catalog.service import Products

ADMIN = "admin"
"""The role that sees and changes products in every state."""


def _is_admin() -> bool:
    principal = current_principal()
    return principal is not None and ADMIN in principal.roles


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    """``agora.catalog.v1.CatalogService``; prices are in ``currency`` (the mesh's one
    currency, ``MeshSettings.currency``)."""

    def __init__(self, products: Products, *, currency: str) -> None:
        self._products = products
        self._currency = currency

    async def CreateProduct(
        self, request: catalog_pb2.CreateProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """Admins; idempotent per (token subject, request_id); INVALID_ARGUMENT naming the
        field (``product.price.currency_code``, ``product.title``, ...,
        IDEMPOTENCY_KEY_REUSED)."""
        principal = require_principal()
        fields = mappers.parse_product_fields(request.product, currency=self._currency)
        product = await self._products.create_product(
            fields, request_id=parse_request_id(request.request_id), scope=principal.subject
        )
        return mappers.product_to_proto(product)

    async def GetProduct(
        self, request: catalog_pb2.GetProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """Anyone; NOT_FOUND (PRODUCT_NOT_FOUND) when there is no such product or it is not
        ACTIVE and the caller is no admin."""
        product_id = mappers.parse_product_name(request.name)
        product = await self._products.get_product(product_id, admin=_is_admin())
        return mappers.product_to_proto(product)

    async def ListProducts(
        self, request: catalog_pb2.ListProductsRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ListProductsResponse:
        """Anyone (ACTIVE products only unless an admin); INVALID_ARGUMENT at ``filter``,
        ``order_by``, ``page_size`` or ``page_token``."""
        listing = ListRequest(
            filter=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await self._products.list_products(listing, admin=_is_admin())
        return catalog_pb2.ListProductsResponse(
            products=[mappers.product_to_proto(item) for item in page.products],
            next_page_token=page.next_page_token,
        )

    async def UpdateProduct(
        self, request: catalog_pb2.UpdateProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """Admins; ABORTED (ETAG_MISMATCH) for a stale etag, INVALID_ARGUMENT
        (``update_mask``, ``product.*``), NOT_FOUND."""
        product_id = mappers.parse_product_name(request.product.name, field="product.name")
        names = update_mask_fields(list(request.update_mask.paths), UPDATABLE_FIELDS)
        changes = mappers.parse_product_changes(request.product, names, currency=self._currency)
        product = await self._products.update_product(
            product_id, changes, etag=request.product.etag or None
        )
        return mappers.product_to_proto(product)

    async def ActivateProduct(
        self, request: catalog_pb2.ActivateProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """Admins; FAILED_PRECONDITION (STATE_TRANSITION_INVALID) for an archived product,
        ABORTED, NOT_FOUND."""
        product_id = mappers.parse_product_name(request.name)
        product = await self._products.activate_product(product_id, etag=request.etag or None)
        return mappers.product_to_proto(product)

    async def ArchiveProduct(
        self, request: catalog_pb2.ArchiveProductRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Product:
        """Admins; archiving twice changes nothing; ABORTED, NOT_FOUND."""
        product_id = mappers.parse_product_name(request.name)
        product = await self._products.archive_product(product_id, etag=request.etag or None)
        return mappers.product_to_proto(product)


class CatalogInternalServicer(catalog_pb2_grpc.CatalogInternalServiceServicer):
    """``agora.catalog.v1.CatalogInternalService``, for the services the contract's
    ``callers`` rule names (checked from the mTLS identity before this runs)."""

    def __init__(self, products: Products) -> None:
        self._products = products

    async def BatchGetProducts(
        self, request: catalog_pb2.BatchGetProductsRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.BatchGetProductsResponse:
        """Products in any state, in the order asked; unknown names left out;
        INVALID_ARGUMENT (``names``) for a name that is not ``products/{uuid}``."""
        ids = [mappers.parse_product_name(name, field="names") for name in request.names]
        products = await self._products.batch_get_products(ids)
        return catalog_pb2.BatchGetProductsResponse(
            products=[mappers.product_to_proto(item) for item in products]
        )
