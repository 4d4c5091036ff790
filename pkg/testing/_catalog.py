"""A stand-in catalog service that answers ``CatalogInternalService.BatchGetProducts``, for
tests of a client adapter that asks the catalog about products (the basket, the order)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from google.type import money_pb2

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from agora.errors.v1.reasons import SharedReason
from pkg.errors import Unavailable
from pkg.mtls import server_credentials
from pkg.server import GrpcServer, Registration, peer_identity
from pkg.testing._kit import TokenMint, serving


class StandInCatalog(catalog_pb2_grpc.CatalogInternalServiceServicer):
    """``BatchGetProducts`` over ``products`` (``products/{uuid}`` -> ``Product``), as the
    catalog answers it: the products found, in the order asked, unknown names left out.

    It runs behind the real ``pkg.server`` interceptors and the contract's rule
    (``callers: ["basket", "order"]``), so another identity is PERMISSION_DENIED as at
    the real service.  ``calls`` records the caller identity of each call that reached it;
    while ``up`` is false every call is UNAVAILABLE (``DATABASE_UNAVAILABLE``).
    """

    def __init__(self) -> None:
        self.products: dict[str, catalog_pb2.Product] = {}
        self.up = True
        self.calls: list[str | None] = []

    def add(
        self,
        *,
        title: str = "Stand-in product",
        price: money_pb2.Money | None = None,
        stock_quantity: int = 10,
        state: catalog_pb2.Product.State.ValueType = catalog_pb2.Product.STATE_ACTIVE,
    ) -> catalog_pb2.Product:
        """Hold a new product (EUR 12.50, 10 in stock, ACTIVE unless told) and return it."""
        product = catalog_pb2.Product(
            name=f"products/{uuid.uuid4()}",
            title=title,
            price=price or money_pb2.Money(currency_code="EUR", units=12, nanos=500_000_000),
            stock_quantity=stock_quantity,
            state=state,
        )
        self.products[product.name] = product
        return product

    async def BatchGetProducts(
        self, request: catalog_pb2.BatchGetProductsRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.BatchGetProductsResponse:
        self.calls.append(peer_identity(context))
        if not self.up:
            raise Unavailable(
                "the stand-in catalog is down", reason=SharedReason.DATABASE_UNAVAILABLE
            )
        found = [self.products[name] for name in request.names if name in self.products]
        return catalog_pb2.BatchGetProductsResponse(products=found)


@asynccontextmanager
async def serving_catalog(
    cert_dir: Path, mint: TokenMint
) -> AsyncIterator[tuple[str, StandInCatalog]]:
    """Run a ``StandInCatalog`` over mTLS as workload ``catalog`` (certificates from
    ``cert_dir``; ``mint``'s verifier for the server's token check).

    Yields its target (``127.0.0.1:<port>``, for ``AGORA_ENDPOINTS["catalog"]``) and the
    servicer; the server stops on exit.  Raises ``OSError`` when the catalog certificate
    is missing.
    """
    servicer = StandInCatalog()
    server = GrpcServer(
        identity="catalog",
        listen="127.0.0.1:0",
        verifier=mint.verifier,
        credentials=server_credentials(cert_dir, "catalog"),
        grace=0.5,
        registrations=[
            Registration(
                "agora.catalog.v1.CatalogInternalService",
                servicer,
                catalog_pb2_grpc.add_CatalogInternalServiceServicer_to_server,
            )
        ],
    )
    async with serving(server) as target:
        yield target, servicer
