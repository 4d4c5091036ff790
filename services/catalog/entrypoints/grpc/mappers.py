"""Proto <-> domain for the catalog service: resource names, products and events.

``event_to_message`` is the unit of work's ``pkg.uow.EventMapper`` (given to it by the
composition root): domain events -> ``agora.catalog.v1`` (catalog_events.proto; the
reservation events of stock_events.proto through ``stock.stock_event_to_message``).
Money is ``pkg.money_proto``, request ids and field renaming ``pkg.fields``, timestamps
``pkg.timestamps``.

With the servicer, the only module that knows ``agora.catalog.v1``'s messages.  Field paths
in errors are the request's (``name``, ``product.price.nanos``), as AIP-193 asks.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any
from uuid import UUID

from google.protobuf.message import Message

from agora.catalog.v1 import catalog_events_pb2, catalog_pb2
from agora.catalog.v1.reasons import CatalogReason
from pkg.fields import parse_resource_id, request_fields
from pkg.money_proto import money_to_proto, parse_money
from pkg.timestamps import timestamp_to_proto
from services.catalog.domain import (
    Product,
    ProductArchived,
    ProductCreated,
    ProductFields,
    ProductPriceChanged,
    ProductState,
    parse_categories,
    parse_description,
    parse_stock,
    parse_title,
)
from services.catalog.entrypoints.grpc.stock import stock_event_to_message

_PREFIX = "products/"
_STATES = {
    ProductState.DRAFT: catalog_pb2.Product.STATE_DRAFT,
    ProductState.ACTIVE: catalog_pb2.Product.STATE_ACTIVE,
    ProductState.ARCHIVED: catalog_pb2.Product.STATE_ARCHIVED,
}
_PARSERS: dict[str, Callable[[Any], object]] = {
    "title": parse_title,
    "description": parse_description,
    "stock_quantity": parse_stock,
    "categories": parse_categories,
}
_REQUEST_PATHS = {name: f"product.{name}" for name in (*_PARSERS, "price")}


def product_name(product_id: UUID) -> str:
    """The resource name ``products/{uuid}``."""
    return f"{_PREFIX}{product_id}"


def parse_product_name(name: str, *, field: str = "name") -> UUID:
    """The id ``name`` denotes; ``InvalidField`` (at ``field``, NAME_INVALID) unless
    ``products/{uuid}``."""
    return parse_resource_id(name, "products", field=field, reason=CatalogReason.NAME_INVALID)


def parse_product_fields(product: catalog_pb2.Product, *, currency: str) -> ProductFields:
    """The fields of CreateProduct's ``product`` (at ``product.*``).

    ``currency`` is the mesh's one currency (``MeshSettings.currency``).  Raises
    ``InvalidField`` naming the field: ``product.title`` (TITLE_INVALID),
    ``product.description``, ``product.price.currency_code`` (CURRENCY_NOT_ACCEPTED),
    ``product.price.nanos`` / ``product.price.units`` (MONEY_INVALID), ``product.price``
    (MONEY_NOT_POSITIVE), ``product.stock_quantity`` (STOCK_INVALID),
    ``product.categories`` (CATEGORY_INVALID).
    """
    price = parse_money(product.price, field="product.price", currency=currency, positive=True)
    with request_fields(_REQUEST_PATHS):
        return ProductFields(
            title=product.title,
            description=product.description,
            price=price,
            stock_quantity=product.stock_quantity,
            categories=tuple(product.categories),
        )


def parse_product_changes(
    product: catalog_pb2.Product, names: Collection[str], *, currency: str
) -> dict[str, object]:
    """The new values of the fields ``names`` (an UpdateProduct mask, already checked
    against ``UPDATABLE_FIELDS``) from the request's ``product``; the other fields are not
    read.  Raises ``InvalidField`` as ``parse_product_fields`` does, for named fields only.
    """
    changes: dict[str, object] = {}
    if "price" in names:
        changes["price"] = parse_money(
            product.price, field="product.price", currency=currency, positive=True
        )
    with request_fields(_REQUEST_PATHS):
        for name in names:
            if name != "price":
                changes[name] = _PARSERS[name](getattr(product, name))
    return changes


def product_to_proto(product: Product) -> catalog_pb2.Product:
    """The ``agora.catalog.v1.Product`` of ``product``."""
    return catalog_pb2.Product(
        name=product_name(product.id),
        title=product.title,
        description=product.description,
        price=money_to_proto(product.price),
        stock_quantity=product.stock_quantity,
        state=_STATES[product.state],
        categories=list(product.categories),
        create_time=timestamp_to_proto(product.create_time),
        update_time=timestamp_to_proto(product.update_time),
        etag=product.etag,
    )


def event_to_message(event: object) -> tuple[str, Message]:
    """``(subject, message)`` of a domain event for the outbox (``pkg.uow.EventMapper``):
    the product's resource name and its ``agora.catalog.v1`` event message.  Raises
    ``TypeError`` for anything but the catalog service's events."""
    message: Message
    match event:
        case ProductCreated(product_id=product_id, title=title, price=price, state=state):
            message = catalog_events_pb2.ProductCreated(
                product=product_name(product_id),
                title=title,
                price=money_to_proto(price),
                state=_STATES[state],
            )
        case ProductPriceChanged(product_id=product_id, price=price, previous_price=previous):
            message = catalog_events_pb2.ProductPriceChanged(
                product=product_name(product_id),
                price=money_to_proto(price),
                previous_price=money_to_proto(previous),
            )
        case ProductArchived(product_id=product_id):
            message = catalog_events_pb2.ProductArchived(product=product_name(product_id))
        case _:
            mapped = stock_event_to_message(event)
            if mapped is None:
                raise TypeError(f"not a catalog service event: {type(event).__name__}")
            return mapped
    return product_name(product_id), message
