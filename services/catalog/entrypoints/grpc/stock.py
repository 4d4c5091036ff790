"""``agora.catalog.v1.StockService``: its servicer and its proto <-> domain mappers.

Request -> mapper -> use case (``services.catalog.service.stock.Stock``) -> mapper ->
reply.  Only the ``order`` identity may call it (the contract's ``callers`` rule, enforced
by the server's interceptors before these run); protovalidate has checked the names'
shapes, item quantities and that each product appears once.  ``stock_event_to_message``
maps the reservation events for the unit of work (through ``mappers.event_to_message``).
"""

from __future__ import annotations

from uuid import UUID

import grpc
from google.protobuf.message import Message

from agora.catalog.v1 import stock_events_pb2, stock_pb2, stock_pb2_grpc
from agora.catalog.v1.reasons import CatalogReason
from pkg.fields import parse_resource_id
from pkg.timestamps import timestamp_to_proto
from services.catalog.domain.stock import (
    Reservation,
    ReservationItem,
    ReservationState,
    StockCommitted,
    StockReleased,
    StockReserved,
)
from services.catalog.service.stock import Stock

_RESERVATIONS = "reservations/"
_ORDERS = "orders/"
_PRODUCTS = "products/"
_STATES = {
    ReservationState.HELD: stock_pb2.Reservation.STATE_HELD,
    ReservationState.COMMITTED: stock_pb2.Reservation.STATE_COMMITTED,
    ReservationState.RELEASED: stock_pb2.Reservation.STATE_RELEASED,
    ReservationState.EXPIRED: stock_pb2.Reservation.STATE_EXPIRED,
}


def reservation_name(reservation_id: UUID) -> str:
    """The resource name ``reservations/{uuid}``."""
    return f"{_RESERVATIONS}{reservation_id}"


def _parse(name: str, collection: str, field: str) -> UUID:
    return parse_resource_id(name, collection, field=field, reason=CatalogReason.NAME_INVALID)


def parse_reservation_name(name: str, *, field: str = "name") -> UUID:
    """The id ``name`` denotes; ``InvalidField`` (NAME_INVALID) unless
    ``reservations/{uuid}``."""
    return _parse(name, "reservations", field)


def parse_items(items: list[stock_pb2.ReservationItem]) -> tuple[ReservationItem, ...]:
    """The domain items of ReserveStock's ``items``; ``InvalidField`` (``items[i].product``,
    NAME_INVALID) for a name that is not ``products/{uuid}``."""
    return tuple(
        ReservationItem(_parse(item.product, "products", f"items[{i}].product"), item.quantity)
        for i, item in enumerate(items)
    )


def _items_to_proto(items: tuple[ReservationItem, ...]) -> list[stock_pb2.ReservationItem]:
    return [
        stock_pb2.ReservationItem(product=f"{_PRODUCTS}{item.product_id}", quantity=item.quantity)
        for item in items
    ]


def reservation_to_proto(reservation: Reservation) -> stock_pb2.Reservation:
    """The ``agora.catalog.v1.Reservation`` of ``reservation``."""
    return stock_pb2.Reservation(
        name=reservation_name(reservation.id),
        order=f"{_ORDERS}{reservation.order_id}",
        items=_items_to_proto(reservation.items),
        state=_STATES[reservation.state],
        expire_time=timestamp_to_proto(reservation.expire_time),
        create_time=timestamp_to_proto(reservation.create_time),
    )


def stock_event_to_message(event: object) -> tuple[str, Message] | None:
    """``(subject, message)`` of a reservation event (subject: the reservation's name);
    ``None`` for any other event."""
    message: Message
    match event:
        case StockReserved(reservation_id=rid, order_id=oid, items=items):
            message = stock_events_pb2.StockReserved(
                reservation=reservation_name(rid),
                order=f"{_ORDERS}{oid}",
                items=_items_to_proto(items),
            )
        case StockCommitted(reservation_id=rid, order_id=oid, items=items):
            message = stock_events_pb2.StockCommitted(
                reservation=reservation_name(rid),
                order=f"{_ORDERS}{oid}",
                items=_items_to_proto(items),
            )
        case StockReleased(reservation_id=rid, order_id=oid, items=items, state=state):
            message = stock_events_pb2.StockReleased(
                reservation=reservation_name(rid),
                order=f"{_ORDERS}{oid}",
                items=_items_to_proto(items),
                state=_STATES[state],
            )
        case _:
            return None
    return reservation_name(rid), message


class StockServicer(stock_pb2_grpc.StockServiceServicer):
    """``agora.catalog.v1.StockService`` on the ``Stock`` use cases."""

    def __init__(self, stock: Stock) -> None:
        self._stock = stock

    async def ReserveStock(
        self, request: stock_pb2.ReserveStockRequest, context: grpc.aio.ServicerContext
    ) -> stock_pb2.Reservation:
        """See the contract: all items or none, idempotent per order."""
        order_id = _parse(request.order, "orders", "order")
        reservation = await self._stock.reserve(order_id, parse_items(list(request.items)))
        return reservation_to_proto(reservation)

    async def CommitReservation(
        self, request: stock_pb2.CommitReservationRequest, context: grpc.aio.ServicerContext
    ) -> stock_pb2.Reservation:
        """See the contract: idempotent; a released or expired one is refused."""
        reservation = await self._stock.commit(parse_reservation_name(request.name))
        return reservation_to_proto(reservation)

    async def ReleaseReservation(
        self, request: stock_pb2.ReleaseReservationRequest, context: grpc.aio.ServicerContext
    ) -> stock_pb2.Reservation:
        """See the contract: idempotent, the stock returns once; a committed one is
        refused."""
        reservation = await self._stock.release(parse_reservation_name(request.name))
        return reservation_to_proto(reservation)
