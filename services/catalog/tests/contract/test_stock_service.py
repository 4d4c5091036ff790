"""StockService through real generated stubs over mTLS: the ``order`` identity reserves,
commits and releases; bad requests are named; every other caller is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc, stock_pb2, stock_pb2_grpc
from pkg.mtls import secure_channel
from pkg.pki import DevelopmentCA, ensure_mesh_certificates
from pkg.server import MAX_MESSAGE_BYTES
from pkg.testing import TokenMint
from services.catalog.tests.contract.conftest import bearer
from services.catalog.tests.factories import product_message

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def order_identity(cert_dir: Path) -> Path:
    """``cert_dir`` with a leaf for ``order`` too, from the same development CA (the
    order service is not registered yet, so the test kit issues none)."""
    ensure_mesh_certificates(DevelopmentCA(cert_dir.parent / "pki"), cert_dir, ["order"])
    return cert_dir


@pytest.fixture
async def stock(
    catalog_target: str, order_identity: Path
) -> AsyncIterator[stock_pb2_grpc.StockServiceStub]:
    """StockService as the order service calls it."""
    async with secure_channel(order_identity, "order", catalog_target, "catalog") as channel:
        yield stock_pb2_grpc.StockServiceStub(channel)


async def _active_product(
    catalog: catalog_pb2_grpc.CatalogServiceStub, admin: str, stock_quantity: int
) -> str:
    created = await catalog.CreateProduct(
        catalog_pb2.CreateProductRequest(product=product_message(stock_quantity=stock_quantity)),
        metadata=bearer(admin),
    )
    await catalog.ActivateProduct(
        catalog_pb2.ActivateProductRequest(name=created.name, etag=created.etag),
        metadata=bearer(admin),
    )
    return str(created.name)


_TWICE = f"products/{uuid4()}"


def _order() -> str:
    return f"orders/{uuid4()}"


def _reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return f"{info.reason} {dict(info.metadata)}"
    return ""


@pytest.fixture
def admin(token_mint: TokenMint) -> str:
    return token_mint.token(roles=["admin"])


async def test_order_reserves_commits_and_releases(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    stock: stock_pb2_grpc.StockServiceStub,
    admin: str,
) -> None:
    lamp = await _active_product(catalog, admin, 5)
    order = _order()
    request = stock_pb2.ReserveStockRequest(
        order=order, items=[stock_pb2.ReservationItem(product=lamp, quantity=3)]
    )
    reservation = await stock.ReserveStock(request)
    assert reservation.state == stock_pb2.Reservation.STATE_HELD
    assert reservation.order == order
    assert (await stock.ReserveStock(request)).name == reservation.name
    product = await catalog.GetProduct(catalog_pb2.GetProductRequest(name=lamp))
    assert product.stock_quantity == 2
    committed = await stock.CommitReservation(
        stock_pb2.CommitReservationRequest(name=reservation.name)
    )
    assert committed.state == stock_pb2.Reservation.STATE_COMMITTED
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stock.ReleaseReservation(stock_pb2.ReleaseReservationRequest(name=reservation.name))
    assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "RESERVATION_STATE_INVALID" in _reason(raised.value)

    other = await stock.ReserveStock(
        stock_pb2.ReserveStockRequest(
            order=_order(), items=[stock_pb2.ReservationItem(product=lamp, quantity=2)]
        )
    )
    released = await stock.ReleaseReservation(stock_pb2.ReleaseReservationRequest(name=other.name))
    assert released.state == stock_pb2.Reservation.STATE_RELEASED
    product = await catalog.GetProduct(catalog_pb2.GetProductRequest(name=lamp))
    assert product.stock_quantity == 2


async def test_insufficient_stock_names_the_product(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    stock: stock_pb2_grpc.StockServiceStub,
    admin: str,
) -> None:
    lamp = await _active_product(catalog, admin, 1)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stock.ReserveStock(
            stock_pb2.ReserveStockRequest(
                order=_order(), items=[stock_pb2.ReservationItem(product=lamp, quantity=2)]
            )
        )
    assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    reason = _reason(raised.value)
    assert reason.startswith("INSUFFICIENT_STOCK") and lamp in reason


@pytest.mark.parametrize(
    "request_",
    [
        stock_pb2.ReserveStockRequest(order="orders/nope", items=[]),
        stock_pb2.ReserveStockRequest(
            order=f"orders/{uuid4()}",
            items=[stock_pb2.ReservationItem(product=f"products/{uuid4()}", quantity=0)],
        ),
        stock_pb2.ReserveStockRequest(
            order=f"orders/{uuid4()}",
            items=[
                stock_pb2.ReservationItem(product=_TWICE, quantity=1),
                stock_pb2.ReservationItem(product=_TWICE, quantity=2),
            ],
        ),
    ],
    ids=["bad-order-no-items", "quantity-zero", "product-twice"],
)
async def test_bad_requests_are_invalid_arguments(
    stock: stock_pb2_grpc.StockServiceStub, request_: stock_pb2.ReserveStockRequest
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stock.ReserveStock(request_)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_an_unknown_reservation_is_not_found(stock: stock_pb2_grpc.StockServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stock.CommitReservation(
            stock_pb2.CommitReservationRequest(name=f"reservations/{uuid4()}")
        )
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("identity", ["edge", "basket"])
async def test_other_callers_are_refused(
    catalog_target: str, cert_dir: Path, identity: str
) -> None:
    async with secure_channel(cert_dir, identity, catalog_target, "catalog") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stock_pb2_grpc.StockServiceStub(channel).ReserveStock(
                stock_pb2.ReserveStockRequest(
                    order=f"orders/{uuid4()}",
                    items=[stock_pb2.ReservationItem(product=f"products/{uuid4()}", quantity=1)],
                )
            )
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_a_message_over_the_servers_limit_is_refused_before_validation(
    stock: stock_pb2_grpc.StockServiceStub,
) -> None:
    # ~1.3 MB: above pkg.server's MAX_MESSAGE_BYTES (the edge's body cap), far above the
    # contract's 50 items. gRPC core refuses it; nothing parses or validates 25,000 items.
    items = [
        stock_pb2.ReservationItem(product=f"products/{uuid4()}", quantity=1) for _ in range(25_000)
    ]
    huge = stock_pb2.ReserveStockRequest(order=_order(), items=items)
    assert huge.ByteSize() > MAX_MESSAGE_BYTES
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stock.ReserveStock(huge)
    assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    fits = stock_pb2.ReserveStockRequest(order=_order(), items=items[:51])
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stock.ReserveStock(fits)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT  # max_items: 50
