"""The reservation's lifecycle (pure domain) and its events' contract messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from agora.catalog.v1 import stock_events_pb2, stock_pb2
from services.catalog.domain.stock import (
    Reservation,
    ReservationItem,
    ReservationState,
    ReservationStateInvalid,
    StockCommitted,
    StockReleased,
    StockReserved,
)
from services.catalog.entrypoints.grpc.mappers import event_to_message

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _held() -> Reservation:
    items = (ReservationItem(uuid4(), 2), ReservationItem(uuid4(), 1))
    return Reservation.create(
        id=uuid4(), order_id=uuid4(), items=items, now=NOW, ttl=timedelta(minutes=15)
    )


def test_a_new_reservation_is_held_sorted_and_records_stock_reserved() -> None:
    reservation = _held()
    assert reservation.state is ReservationState.HELD
    assert reservation.items == tuple(sorted(reservation.items))
    assert reservation.expire_time == NOW + timedelta(minutes=15)
    assert [type(event) for event in reservation.events] == [StockReserved]


def test_a_product_twice_is_refused() -> None:
    product = uuid4()
    with pytest.raises(ValueError, match="one item per product"):
        Reservation.create(
            id=uuid4(),
            order_id=uuid4(),
            items=(ReservationItem(product, 1), ReservationItem(product, 2)),
            now=NOW,
            ttl=timedelta(minutes=1),
        )


def test_commit_and_release_are_idempotent_and_exclusive() -> None:
    committed = _held().committed(NOW)
    assert committed.committed(NOW) is committed
    assert isinstance(committed.events[-1], StockCommitted)
    with pytest.raises(ReservationStateInvalid):
        committed.released(NOW)
    released = _held().released(NOW)
    assert released.released(NOW) is released
    with pytest.raises(ReservationStateInvalid):
        released.committed(NOW)


def test_only_a_due_held_reservation_expires() -> None:
    held = _held()
    assert held.expired(NOW) is held
    expired = held.expired(held.expire_time)
    assert expired.state is ReservationState.EXPIRED
    assert expired.events[-1] == StockReleased(
        held.id, held.order_id, held.items, ReservationState.EXPIRED
    )
    assert expired.released(NOW) is expired
    with pytest.raises(ReservationStateInvalid):
        expired.committed(NOW)


def test_stock_events_map_to_their_messages_on_the_reservation() -> None:
    held = _held()
    expired = held.expired(held.expire_time)
    subject, message = event_to_message(expired.events[-1])
    assert subject == f"reservations/{held.id}"
    assert isinstance(message, stock_events_pb2.StockReleased)
    assert message.state == stock_pb2.Reservation.STATE_EXPIRED
    assert message.order == f"orders/{held.order_id}"
    assert [item.quantity for item in message.items] == [item.quantity for item in held.items]
