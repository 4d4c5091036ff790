"""Stock reservations: the stock a checkout holds for one order until it is paid.

A ``Reservation`` is HELD when made (its products' ``stock_quantity`` already lowered, so
the column stays "units in stock and not reserved"), then COMMITTED (sold: the stock stays
taken), RELEASED or EXPIRED (the stock returns).  Each change records its past-tense
event (``StockReserved``, ``StockCommitted``, ``StockReleased``), which the unit of work
writes to the outbox with the change.  Pure Python: no grpc, SQLAlchemy or protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from agora.catalog.v1.reasons import CatalogReason
from pkg.errors import FailedPrecondition, NotFound


class ReservationState(StrEnum):
    """The lifecycle of a reservation; the value is what the ``state`` column holds."""

    HELD = "held"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True, order=True)
class ReservationItem:
    """``quantity`` units (1..99, checked by the contract) of product ``product_id``;
    items order by product id, the order their stock is locked in."""

    product_id: UUID
    quantity: int


@dataclass(frozen=True)
class StockReserved:
    """Stock was held for ``order_id``."""

    reservation_id: UUID
    order_id: UUID
    items: tuple[ReservationItem, ...]


@dataclass(frozen=True)
class StockCommitted:
    """A held reservation was committed: its stock is sold."""

    reservation_id: UUID
    order_id: UUID
    items: tuple[ReservationItem, ...]


@dataclass(frozen=True)
class StockReleased:
    """A held reservation's stock returned; ``state`` is RELEASED or EXPIRED."""

    reservation_id: UUID
    order_id: UUID
    items: tuple[ReservationItem, ...]
    state: ReservationState


StockEvent = StockReserved | StockCommitted | StockReleased
"""Every event a ``Reservation`` records."""


class ReservationNotFound(NotFound):
    """No reservation has the given id (NOT_FOUND)."""

    reason = CatalogReason.RESERVATION_NOT_FOUND

    def __init__(self, reservation_id: UUID) -> None:
        name = f"reservations/{reservation_id}"
        super().__init__(f"reservation {name} does not exist", metadata={"reservation": name})


class ReservationStateInvalid(FailedPrecondition):
    """The reservation's state does not allow the change (FAILED_PRECONDITION)."""

    reason = CatalogReason.RESERVATION_STATE_INVALID

    def __init__(self, state: ReservationState, action: str) -> None:
        super().__init__(
            f"a reservation in state {state.upper()} cannot be {action}",
            metadata={"state": state.upper()},
        )


class ReservationMismatch(FailedPrecondition):
    """The order holds a reservation of other items (FAILED_PRECONDITION): the order's
    reservation is its idempotency key, so the same order must ask for the same items."""

    reason = CatalogReason.RESERVATION_MISMATCH

    def __init__(self, order_id: UUID, reservation_id: UUID) -> None:
        super().__init__(
            f"order orders/{order_id} holds reservation reservations/{reservation_id} "
            "of other items",
            metadata={
                "order": f"orders/{order_id}",
                "reservation": f"reservations/{reservation_id}",
            },
        )


class InsufficientStock(FailedPrecondition):
    """A product has fewer units in stock than asked for (FAILED_PRECONDITION); nothing
    was reserved."""

    reason = CatalogReason.INSUFFICIENT_STOCK

    def __init__(self, product_id: UUID, quantity: int) -> None:
        name = f"products/{product_id}"
        super().__init__(
            f"product {name} has fewer than {quantity} units in stock",
            metadata={"product": name, "quantity": str(quantity)},
        )


class ProductUnavailable(FailedPrecondition):
    """A product is not ACTIVE (a draft or archived one cannot be bought); nothing was
    reserved."""

    reason = CatalogReason.PRODUCT_UNAVAILABLE

    def __init__(self, product_id: UUID) -> None:
        name = f"products/{product_id}"
        super().__init__(f"product {name} is not for sale", metadata={"product": name})


@dataclass(frozen=True)
class Reservation:
    """A hold on stock for order ``order_id``: ``items`` sorted by product id, each
    product once; ``expire_time`` is the deadline of a held reservation (kept in every
    state).  ``events`` are the recorded events (not part of equality)."""

    id: UUID
    order_id: UUID
    items: tuple[ReservationItem, ...]
    state: ReservationState
    expire_time: datetime
    create_time: datetime
    update_time: datetime
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        order_id: UUID,
        items: tuple[ReservationItem, ...],
        now: datetime,
        ttl: timedelta,
    ) -> Reservation:
        """A HELD reservation of ``items`` (sorted here) expiring ``ttl`` after ``now``;
        records ``StockReserved``.  ``ValueError`` when ``items`` is empty or names a
        product twice (the contract refuses both before this runs)."""
        ordered = tuple(sorted(items))
        if not ordered or len({item.product_id for item in ordered}) != len(ordered):
            raise ValueError("a reservation holds one item per product, at least one")
        return cls(
            id=id,
            order_id=order_id,
            items=ordered,
            state=ReservationState.HELD,
            expire_time=now + ttl,
            create_time=now,
            update_time=now,
            events=[StockReserved(id, order_id, ordered)],
        )

    def holds(self, items: tuple[ReservationItem, ...]) -> bool:
        """Whether this reservation is of exactly ``items`` (in any order)."""
        return self.items == tuple(sorted(items))

    def committed(self, now: datetime) -> Reservation:
        """COMMITTED (recording ``StockCommitted``); itself when committed already.  A
        held reservation may be committed until it is expired, even past its deadline.
        ``ReservationStateInvalid`` when released or expired."""
        if self.state is ReservationState.COMMITTED:
            return self
        if self.state is not ReservationState.HELD:
            raise ReservationStateInvalid(self.state, "committed")
        event = StockCommitted(self.id, self.order_id, self.items)
        return self._moved(ReservationState.COMMITTED, now, event)

    def released(self, now: datetime) -> Reservation:
        """RELEASED (recording ``StockReleased``: the stock is to return); itself when
        released or expired already (its stock returned then).
        ``ReservationStateInvalid`` when committed."""
        if self.state in (ReservationState.RELEASED, ReservationState.EXPIRED):
            return self
        if self.state is not ReservationState.HELD:
            raise ReservationStateInvalid(self.state, "released")
        return self._returned(ReservationState.RELEASED, now)

    def expired(self, now: datetime) -> Reservation:
        """EXPIRED (recording ``StockReleased``) when HELD and due at ``now``; else
        itself (nothing to return)."""
        if self.state is not ReservationState.HELD or self.expire_time > now:
            return self
        return self._returned(ReservationState.EXPIRED, now)

    def _returned(self, state: ReservationState, now: datetime) -> Reservation:
        return self._moved(state, now, StockReleased(self.id, self.order_id, self.items, state))

    def _moved(self, state: ReservationState, now: datetime, event: object) -> Reservation:
        return replace(self, state=state, update_time=now, events=[*self.events, event])
