"""Proto <-> domain for the catalog service: resource names, products and events.

``event_to_message`` is the unit of work's ``pkg.uow.EventMapper`` (given to it by the
composition root): domain events -> ``agora.catalog.v1`` (catalog_events.proto).

Request ids and field renaming are ``pkg.fields``, timestamps ``pkg.timestamps``.

With the servicer, the only module that knows ``agora.catalog.v1``'s messages.  Field paths in
errors are the request's (``name``, ``product.display_name``), as AIP-193 asks.
"""

from __future__ import annotations

import contextlib
from uuid import UUID

from google.protobuf.message import Message

from agora.catalog.v1 import catalog_events_pb2, catalog_pb2
from agora.catalog.v1.reasons import CatalogReason
from pkg.timestamps import timestamp_to_proto
from services.catalog.domain import InvalidField, Product, ProductCreated, ProductUpdated

_PREFIX = "products/"


def product_name(product_id: UUID) -> str:
    """The resource name ``products/{uuid}``."""
    return f"{_PREFIX}{product_id}"


def parse_product_name(name: str, *, field: str = "name") -> UUID:
    """The id ``name`` denotes; ``InvalidField`` (at ``field``) unless ``products/{uuid}``."""
    if name.startswith(_PREFIX):
        with contextlib.suppress(ValueError):
            return UUID(name.removeprefix(_PREFIX))
    raise InvalidField(field, "must be products/{uuid}", reason=CatalogReason.NAME_INVALID)


def product_to_proto(product: Product) -> catalog_pb2.Product:
    """The ``agora.catalog.v1.Product`` of ``product``."""
    return catalog_pb2.Product(
        name=product_name(product.id),
        display_name=product.display_name,
        create_time=timestamp_to_proto(product.create_time),
        update_time=timestamp_to_proto(product.update_time),
        etag=product.etag,
    )


def event_to_message(event: object) -> tuple[str, Message]:
    """``(subject, message)`` of a domain event for the outbox (``pkg.uow.EventMapper``):
    the product's resource name and its ``agora.catalog.v1`` event message.  Raises
    ``TypeError`` for anything but the catalog service's events."""
    match event:
        case ProductCreated(product_id=product_id, display_name=display_name):
            message: Message = catalog_events_pb2.ProductCreated(
                product=product_name(product_id), display_name=display_name
            )
        case ProductUpdated(
            product_id=product_id, display_name=display_name, changed_fields=changed
        ):
            message = catalog_events_pb2.ProductUpdated(
                product=product_name(product_id),
                display_name=display_name,
                changed_fields=list(changed),
            )
        case _:
            raise TypeError(f"not a catalog service event: {type(event).__name__}")
    return product_name(product_id), message
