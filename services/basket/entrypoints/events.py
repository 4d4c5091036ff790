"""The basket service's event handlers: the catalog's events -> ``CatalogChanges``.

Built in the composition root into the ``pkg.events.MessageBus`` of the basket's consumer
group (``basket``) on the catalog's stream.  With the gRPC mappers, the only code of the
basket that reads ``agora.catalog.v1``'s event messages.
"""

from __future__ import annotations

from uuid import UUID

from agora.catalog.v1 import catalog_events_pb2
from pkg.errors import InvalidField
from pkg.events import Event, MessageBus, Rejected
from pkg.money_proto import parse_money
from services.basket.entrypoints.grpc.mappers import parse_product_name
from services.basket.service import CatalogChanges


def _product_id(name: str) -> UUID:
    """The id of ``products/{uuid}``; ``Rejected`` (dead-lettered) for anything else."""
    try:
        return parse_product_name(name)
    except InvalidField:
        raise Rejected(f"{name!r} is not a product's resource name") from None


def catalog_event_bus(changes: CatalogChanges, *, currency: str) -> MessageBus:
    """Handlers of ``ProductPriceChanged`` (lines of the product flagged with the new
    price) and ``ProductArchived`` (lines flagged unavailable); ``ProductCreated`` and the
    stock events are not the basket's concern.  A price not in ``currency`` (the mesh's)
    or not a whole number of minor units is ``Rejected``."""

    async def price_changed(payload: catalog_events_pb2.ProductPriceChanged, event: Event) -> None:
        product_id = _product_id(payload.product)
        try:
            price = parse_money(payload.price, field="price", currency=currency)
        except InvalidField as exc:
            raise Rejected(f"the price of {payload.product} is not usable: {exc.message}") from None
        await changes.price_changed(product_id, price, event_id=event.id)

    async def archived(payload: catalog_events_pb2.ProductArchived, event: Event) -> None:
        await changes.archived(_product_id(payload.product), event_id=event.id)

    return MessageBus(
        {
            catalog_events_pb2.ProductPriceChanged: price_changed,
            catalog_events_pb2.ProductArchived: archived,
        }
    )
