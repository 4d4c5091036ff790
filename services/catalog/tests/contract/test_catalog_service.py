"""CatalogService and CatalogInternalService through generated stubs over mTLS: an admin
creates (idempotently), activates, updates (field mask, etag) and archives; customers and
anonymous callers see ACTIVE products only; listing filters, orders and pages; every bad
input of the issue's list is a clear status naming the field; BatchGetProducts for the
basket, refused to other callers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.type import money_pb2

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.mtls import secure_channel
from pkg.testing import TokenMint, status_details
from services.catalog.tests.contract.conftest import bearer
from services.catalog.tests.factories import product_message

pytestmark = pytest.mark.integration

Metadata = tuple[tuple[str, str]]


@pytest.fixture
def admin(token_mint: TokenMint) -> Metadata:
    return bearer(token_mint.token(roles=["admin"]))


@pytest.fixture
def customer(token_mint: TokenMint) -> Metadata:
    return bearer(token_mint.token())


async def _fails(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def _active(
    catalog: catalog_pb2_grpc.CatalogServiceStub, admin: Metadata, **fields: Any
) -> catalog_pb2.Product:
    created = await catalog.CreateProduct(
        catalog_pb2.CreateProductRequest(product=product_message(**fields)), metadata=admin
    )
    activated: catalog_pb2.Product = await catalog.ActivateProduct(
        catalog_pb2.ActivateProductRequest(name=created.name, etag=created.etag), metadata=admin
    )
    return activated


async def test_a_draft_is_seen_by_admins_only_until_it_is_activated(
    catalog: catalog_pb2_grpc.CatalogServiceStub, admin: Metadata, customer: Metadata
) -> None:
    created = await catalog.CreateProduct(
        catalog_pb2.CreateProductRequest(product=product_message("Contract")), metadata=admin
    )
    assert created.state == catalog_pb2.Product.STATE_DRAFT
    assert (created.price.units, created.price.nanos, created.stock_quantity) == (
        12,
        500_000_000,
        5,
    )
    get = catalog_pb2.GetProductRequest(name=created.name)
    assert await catalog.GetProduct(get, metadata=admin) == created
    for caller in (customer, ()):
        error = await _fails(catalog.GetProduct(get, metadata=caller))
        assert error.code() is grpc.StatusCode.NOT_FOUND
        assert status_details(error)["error_info"].reason == "PRODUCT_NOT_FOUND"
    await catalog.ActivateProduct(
        catalog_pb2.ActivateProductRequest(name=created.name), metadata=admin
    )
    seen = await catalog.GetProduct(get)
    assert seen.state == catalog_pb2.Product.STATE_ACTIVE


async def test_customers_cannot_write(
    catalog: catalog_pb2_grpc.CatalogServiceStub, customer: Metadata
) -> None:
    error = await _fails(
        catalog.CreateProduct(
            catalog_pb2.CreateProductRequest(product=product_message()), metadata=customer
        )
    )
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_a_replayed_request_id_returns_the_same_product(
    catalog: catalog_pb2_grpc.CatalogServiceStub, admin: Metadata
) -> None:
    request_id = str(uuid.uuid4())
    request = catalog_pb2.CreateProductRequest(product=product_message(), request_id=request_id)
    first = await catalog.CreateProduct(request, metadata=admin)
    again = await catalog.CreateProduct(request, metadata=admin)
    assert again.name == first.name
    other = catalog_pb2.CreateProductRequest(
        product=product_message("Other"), request_id=request_id
    )
    error = await _fails(catalog.CreateProduct(other, metadata=admin))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert status_details(error)["error_info"].reason == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize(
    ("price", "field"),
    [
        (money_pb2.Money(currency_code="EUR", units=-1), "product.price"),
        (money_pb2.Money(currency_code="EUR"), "product.price"),
        (money_pb2.Money(currency_code="USD", units=1), "product.price.currency_code"),
        (money_pb2.Money(currency_code="EUR", units=1, nanos=1), "product.price.nanos"),
        (
            money_pb2.Money(currency_code="EUR", units=1, nanos=1_000_000_000),
            "product.price.nanos",
        ),
    ],
)
async def test_bad_prices_are_invalid_argument_naming_the_field(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    admin: Metadata,
    price: money_pb2.Money,
    field: str,
) -> None:
    request = catalog_pb2.CreateProductRequest(product=product_message(price=price))
    error = await _fails(catalog.CreateProduct(request, metadata=admin))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field in status_details(error)["violations"]


def _update(product: catalog_pb2.Product, *paths: str) -> catalog_pb2.UpdateProductRequest:
    return catalog_pb2.UpdateProductRequest(
        product=product, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
    )


async def test_update_with_the_current_etag_then_a_stale_one_is_aborted(
    catalog: catalog_pb2_grpc.CatalogServiceStub, admin: Metadata
) -> None:
    product = await _active(catalog, admin)
    change = catalog_pb2.Product(
        name=product.name,
        etag=product.etag,
        price=money_pb2.Money(currency_code="EUR", units=9, nanos=990_000_000),
    )
    updated = await catalog.UpdateProduct(_update(change, "price"), metadata=admin)
    assert (updated.price.units, updated.title, updated.etag) == (9, product.title, 'W/"3"')
    error = await _fails(catalog.UpdateProduct(_update(change, "price"), metadata=admin))
    assert error.code() is grpc.StatusCode.ABORTED
    assert status_details(error)["error_info"].reason == "ETAG_MISMATCH"


async def test_an_update_of_an_unknown_product_is_not_found(
    catalog: catalog_pb2_grpc.CatalogServiceStub, admin: Metadata
) -> None:
    change = catalog_pb2.Product(name=f"products/{uuid.uuid4()}", title="X")
    error = await _fails(catalog.UpdateProduct(_update(change, "title"), metadata=admin))
    assert error.code() is grpc.StatusCode.NOT_FOUND


async def test_an_archived_product_is_hidden_and_cannot_be_activated(
    catalog: catalog_pb2_grpc.CatalogServiceStub, admin: Metadata, customer: Metadata
) -> None:
    product = await _active(catalog, admin)
    archive = catalog_pb2.ArchiveProductRequest(name=product.name)
    archived = await catalog.ArchiveProduct(archive, metadata=admin)
    assert (await catalog.ArchiveProduct(archive, metadata=admin)) == archived
    error = await _fails(
        catalog.ActivateProduct(
            catalog_pb2.ActivateProductRequest(name=product.name), metadata=admin
        )
    )
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert status_details(error)["error_info"].reason == "STATE_TRANSITION_INVALID"
    error = await _fails(
        catalog.GetProduct(catalog_pb2.GetProductRequest(name=product.name), metadata=customer)
    )
    assert error.code() is grpc.StatusCode.NOT_FOUND


async def test_listing_filters_orders_and_pages(
    catalog: catalog_pb2_grpc.CatalogServiceStub, admin: Metadata, customer: Metadata
) -> None:
    tag = f"t{uuid.uuid4().hex[:12]}"
    for units in (3, 1, 2):
        await _active(
            catalog,
            admin,
            price=money_pb2.Money(currency_code="EUR", units=units),
            categories=[tag],
        )
    request = catalog_pb2.ListProductsRequest(
        filter=f'categories:"{tag}" AND price < 2.50', order_by="price desc", page_size=1
    )
    first = await catalog.ListProducts(request, metadata=customer)
    assert [p.price.units for p in first.products] == [2] and first.next_page_token
    request.page_token = first.next_page_token
    rest = await catalog.ListProducts(request, metadata=customer)
    assert [p.price.units for p in rest.products] == [1] and not rest.next_page_token
    request.order_by = "price"
    error = await _fails(catalog.ListProducts(request, metadata=customer))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in status_details(error)["violations"]


@pytest.mark.parametrize(
    ("listing", "field"),
    [
        ({"filter": "price >"}, "filter"),
        ({"filter": "state = STATE_DRAFT"}, "filter"),
        ({"order_by": "title desc"}, "order_by"),
        ({"page_token": "garbage"}, "page_token"),
    ],
)
async def test_bad_listings_are_invalid_argument_naming_the_field(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    customer: Metadata,
    listing: dict[str, str],
    field: str,
) -> None:
    request = catalog_pb2.ListProductsRequest(**listing)  # type: ignore[arg-type]
    error = await _fails(catalog.ListProducts(request, metadata=customer))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field in status_details(error)["violations"]


async def test_batch_get_returns_any_state_in_the_order_asked(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    catalog_internal: catalog_pb2_grpc.CatalogInternalServiceStub,
    admin: Metadata,
) -> None:
    active = await _active(catalog, admin)
    draft = await catalog.CreateProduct(
        catalog_pb2.CreateProductRequest(product=product_message()), metadata=admin
    )
    names = [draft.name, f"products/{uuid.uuid4()}", active.name]
    reply = await catalog_internal.BatchGetProducts(
        catalog_pb2.BatchGetProductsRequest(names=names)
    )
    assert [p.name for p in reply.products] == [draft.name, active.name]


async def test_batch_get_is_refused_to_other_callers(catalog_target: str, cert_dir: Path) -> None:
    async with secure_channel(cert_dir, "edge", catalog_target, "catalog") as channel:
        stub = catalog_pb2_grpc.CatalogInternalServiceStub(channel)
        error = await _fails(
            stub.BatchGetProducts(
                catalog_pb2.BatchGetProductsRequest(names=[f"products/{uuid.uuid4()}"])
            )
        )
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
