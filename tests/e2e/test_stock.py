"""StockService through the edge: it has no HTTP route (404) and gRPC calls to it are
refused there (UNIMPLEMENTED); inside the mesh only the ``order`` identity may call it, so
the edge's certificate is refused too.  No reservation goes through the mesh until the
order service exists (the contract and integration tests cover them)."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest

from agora.catalog.v1 import stock_pb2, stock_pb2_grpc

from ._grpc import mtls_channel
from ._mesh import Mesh

pytestmark = pytest.mark.e2e


def _request() -> stock_pb2.ReserveStockRequest:
    return stock_pb2.ReserveStockRequest(
        order=f"orders/{uuid.uuid4()}",
        items=[stock_pb2.ReservationItem(product=f"products/{uuid.uuid4()}", quantity=1)],
    )


@pytest.mark.parametrize(
    "path",
    ["/v1/reservations", "/v1/reservations:reserve", "/agora.catalog.v1.StockService/ReserveStock"],
)
def test_the_edge_has_no_http_route_for_stock(http: httpx.Client, path: str) -> None:
    assert http.post(path, json={}).status_code == 404


async def test_stock_is_refused_at_the_edge_and_to_the_edges_identity(
    mesh: Mesh, edge_channel: grpc.aio.Channel
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as at_edge:
        await stock_pb2_grpc.StockServiceStub(edge_channel).ReserveStock(_request(), timeout=10)
    assert at_edge.value.code() is grpc.StatusCode.UNIMPLEMENTED
    async with mtls_channel(mesh, "catalog", "edge") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as as_edge:
            await stock_pb2_grpc.StockServiceStub(channel).ReserveStock(_request(), timeout=10)
    assert as_edge.value.code() is grpc.StatusCode.PERMISSION_DENIED
