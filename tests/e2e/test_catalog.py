"""The catalog service through the edge: an admin creates, activates, reprices and
archives a product over HTTP/JSON; anonymous callers and customers see ACTIVE products
only and search them with a filter; bad prices, filters and stale etags are 4xx naming the
field; gRPC stubs through the edge; the internal service is unreachable from outside."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.testing import status_details

from ._api import bearer, detail, json_error
from ._grpc import mtls_channel
from ._mesh import Mesh

pytestmark = pytest.mark.e2e


def _auth(account: dict[str, Any]) -> dict[str, str]:
    return bearer(account["tokens"]["accessToken"])


def _product(title: str, units: str = "12", **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "description": "sold through the edge",
        "price": {"currencyCode": "EUR", "units": units, "nanos": 500_000_000},
        "stockQuantity": "5",
        **extra,
    }


def test_an_admin_sells_a_product_customers_then_find(
    http: httpx.Client, admin: dict[str, Any], customer: dict[str, Any]
) -> None:
    word = f"zq{uuid.uuid4().hex[:10]}"
    created = http.post(
        "/v1/products", json=_product(f"Hose {word}", categories=["garden"]), headers=_auth(admin)
    )
    assert created.status_code == 200, created.text
    product = created.json()
    assert product["state"] == "STATE_DRAFT" and product["price"]["units"] == "12"
    path = f"/v1/{product['name']}"
    assert http.get(path).status_code == 404
    assert http.get(path, headers=_auth(customer)).status_code == 404
    activated = http.post(f"{path}:activate", json={}, headers=_auth(admin))
    assert activated.status_code == 200 and activated.json()["state"] == "STATE_ACTIVE"
    found = http.get("/v1/products", params={"filter": f'{word} AND categories:"garden"'})
    assert found.status_code == 200, found.text
    assert [p["name"] for p in found.json()["products"]] == [product["name"]]
    repriced = http.patch(
        path,
        params={"updateMask": "price"},
        json={
            "price": {"currencyCode": "EUR", "units": "9", "nanos": 990_000_000},
            "etag": activated.json()["etag"],
        },
        headers=_auth(admin),
    )
    assert repriced.status_code == 200, repriced.text
    assert repriced.json()["price"]["units"] == "9"
    stale = http.patch(
        path,
        params={"updateMask": "stock_quantity"},
        json={"stockQuantity": "1", "etag": activated.json()["etag"]},
        headers=_auth(admin),
    )
    info = detail(json_error(stale, 409), "google.rpc.ErrorInfo")
    assert info is not None and info["reason"] == "ETAG_MISMATCH"
    archived = http.post(f"{path}:archive", json={}, headers=_auth(admin))
    assert archived.status_code == 200 and archived.json()["state"] == "STATE_ARCHIVED"
    assert http.get(path, headers=_auth(customer)).status_code == 404


def test_customers_cannot_create(http: httpx.Client, customer: dict[str, Any]) -> None:
    assert (
        http.post("/v1/products", json=_product("No"), headers=_auth(customer)).status_code == 403
    )


@pytest.mark.parametrize(
    ("price", "field"),
    [
        ({"currencyCode": "EUR", "units": "-1"}, "product.price"),
        ({"currencyCode": "USD", "units": "1"}, "product.price.currency_code"),
        ({"currencyCode": "EUR", "units": "1", "nanos": 1}, "product.price.nanos"),
    ],
)
def test_bad_prices_are_400_naming_the_field(
    http: httpx.Client, admin: dict[str, Any], price: dict[str, Any], field: str
) -> None:
    body = {**_product("Bad"), "price": price}
    json_error(http.post("/v1/products", json=body, headers=_auth(admin)), 400, field)


def test_bad_listings_are_400_naming_the_field(http: httpx.Client) -> None:
    json_error(http.get("/v1/products", params={"filter": "price >"}), 400, "filter")
    json_error(http.get("/v1/products", params={"orderBy": "title"}), 400, "order_by")
    json_error(http.get("/v1/products", params={"pageToken": "x"}), 400, "page_token")


def test_auths_jwks_is_kept_in_the_services_data_folder(
    mesh: Mesh, http: httpx.Client, admin: dict[str, Any]
) -> None:
    cache = Path(mesh.service_env("catalog")["AGORA_CATALOG_JWKS_CACHE_FILE"])
    assert cache == mesh.data_dir / "catalog" / "jwks.json"
    assert http.post("/v1/products", json=_product("Jwks"), headers=_auth(admin)).status_code == 200
    assert json.loads(cache.read_text(encoding="utf-8"))["keys"]


async def test_create_and_get_with_stubs(
    edge_channel: grpc.aio.Channel, admin: dict[str, Any]
) -> None:
    stub = catalog_pb2_grpc.CatalogServiceStub(edge_channel)
    metadata = (("authorization", f"Bearer {admin['tokens']['accessToken']}"),)
    created = await stub.CreateProduct(
        catalog_pb2.CreateProductRequest(
            product=catalog_pb2.Product(title="Stub", price={"currency_code": "EUR", "units": 3})
        ),
        metadata=metadata,
        timeout=10,
    )
    got = await stub.GetProduct(
        catalog_pb2.GetProductRequest(name=created.name), metadata=metadata, timeout=10
    )
    assert got == created
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetProduct(catalog_pb2.GetProductRequest(name=created.name), timeout=10)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert status_details(caught.value)["error_info"].reason == "PRODUCT_NOT_FOUND"


async def test_the_internal_service_is_not_reachable_from_outside(
    mesh: Mesh, edge_channel: grpc.aio.Channel
) -> None:
    request = catalog_pb2.BatchGetProductsRequest(names=[f"products/{uuid.uuid4()}"])
    with pytest.raises(grpc.aio.AioRpcError) as at_edge:
        await catalog_pb2_grpc.CatalogInternalServiceStub(edge_channel).BatchGetProducts(
            request, timeout=10
        )
    assert at_edge.value.code() is grpc.StatusCode.UNIMPLEMENTED
    async with mtls_channel(mesh, "catalog", "edge") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as as_edge:
            await catalog_pb2_grpc.CatalogInternalServiceStub(channel).BatchGetProducts(
                request, timeout=10
            )
    assert as_edge.value.code() is grpc.StatusCode.PERMISSION_DENIED
