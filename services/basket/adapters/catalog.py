"""``Catalog`` over the catalog service's ``CatalogInternalService.BatchGetProducts`` stub.

The stub's channel is an mTLS channel presenting the basket service's certificate
(``pkg.mtls.client``); the catalog authorises the call by that identity (the contract's
``callers`` rule names ``basket``).  This adapter maps the catalog's ``Product`` to the
basket's own ``CatalogProduct``.
"""

from __future__ import annotations

from uuid import UUID

import grpc

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.errors import InvalidField
from pkg.money_proto import parse_money
from pkg.peer_errors import domain_error
from services.basket.domain import CatalogProduct

PEER = "catalog"
"""The service asked (its name in ``AGORA_ENDPOINTS`` and its certificate's)."""


class GrpcCatalog:
    """Asks ``BatchGetProducts`` for one product with a deadline of ``timeout`` seconds;
    prices must be in ``currency`` (the mesh's).

    The catalog down or too slow is ``pkg.errors.Unavailable`` with reason
    ``CATALOG_UNAVAILABLE`` (``pkg.peer_errors.domain_error``); other errors it passes on
    come back as ``pkg.errors``; the rest (PERMISSION_DENIED, INTERNAL) is re-raised as
    ``grpc.aio.AioRpcError`` (INTERNAL at the caller: a bug between services), as is a
    price in another currency (``ValueError``).
    """

    def __init__(
        self,
        stub: catalog_pb2_grpc.CatalogInternalServiceStub,
        *,
        currency: str,
        timeout: float = 5.0,
    ) -> None:
        self._stub = stub
        self._currency = currency
        self._timeout = timeout

    async def product(self, product_id: UUID) -> CatalogProduct | None:
        """See ``Catalog.product``."""
        name = f"products/{product_id}"
        request = catalog_pb2.BatchGetProductsRequest(names=[name])
        try:
            reply = await self._stub.BatchGetProducts(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise (domain_error(exc, PEER) or exc) from exc
        for product in reply.products:
            if product.name == name:
                return self._to_domain(product_id, product)
        return None

    def _to_domain(self, product_id: UUID, product: catalog_pb2.Product) -> CatalogProduct:
        try:
            price = parse_money(product.price, field="price", currency=self._currency)
        except InvalidField as exc:
            raise ValueError(f"the catalog's price of {product.name}: {exc.message}") from exc
        return CatalogProduct(
            product_id=product_id,
            title=product.title,
            price=price,
            stock_quantity=product.stock_quantity,
            on_sale=product.state == catalog_pb2.Product.STATE_ACTIVE,
        )
