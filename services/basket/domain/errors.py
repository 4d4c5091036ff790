"""The basket service's domain errors, each with a stable ``reason`` (AIP-193 ``ErrorInfo``):
a member of ``BasketReason``, generated from ``agora.basket.v1.ErrorReason``.

They derive from ``pkg.errors``, whose base decides the gRPC status code; the server's
error interceptor does the mapping, so nothing here knows about gRPC.
"""

from __future__ import annotations

from uuid import UUID

from agora.basket.v1.reasons import BasketReason
from pkg.errors import Aborted, FailedPrecondition, NotFound, PermissionDenied


def _product(product_id: UUID) -> dict[str, str]:
    return {"product": f"products/{product_id}"}


class ItemNotFound(NotFound):
    """The basket has no line for the product (NOT_FOUND)."""

    reason = BasketReason.ITEM_NOT_FOUND

    def __init__(self, product_id: UUID) -> None:
        super().__init__(
            f"the basket has no line for products/{product_id}", metadata=_product(product_id)
        )


class ProductNotFound(NotFound):
    """The catalog has no such product (NOT_FOUND, ``PRODUCT_UNAVAILABLE``)."""

    reason = BasketReason.PRODUCT_UNAVAILABLE

    def __init__(self, product_id: UUID) -> None:
        super().__init__(f"products/{product_id} does not exist", metadata=_product(product_id))


class ProductNotOnSale(FailedPrecondition):
    """The product exists but is not ACTIVE: a draft, or archived (FAILED_PRECONDITION)."""

    reason = BasketReason.PRODUCT_UNAVAILABLE

    def __init__(self, product_id: UUID) -> None:
        super().__init__(f"products/{product_id} is not on sale", metadata=_product(product_id))


class InsufficientStock(FailedPrecondition):
    """The catalog holds fewer units than the line would (FAILED_PRECONDITION)."""

    reason = BasketReason.INSUFFICIENT_STOCK

    def __init__(self, product_id: UUID, wanted: int, available: int) -> None:
        super().__init__(
            f"only {available} units of products/{product_id} are in stock; the line would "
            f"hold {wanted}",
            metadata={**_product(product_id), "available": str(available)},
        )


class BasketLimit(FailedPrecondition):
    """The line would hold more than 99 units, or the basket more than 50 lines
    (FAILED_PRECONDITION)."""

    reason = BasketReason.BASKET_LIMIT

    def __init__(self, message: str) -> None:
        super().__init__(message)


class NotAllowed(PermissionDenied):
    """The basket named is another user's (PERMISSION_DENIED)."""

    reason = BasketReason.NOT_ALLOWED

    def __init__(self) -> None:
        super().__init__("a customer may use only their own basket (users/me/basket)")


class EtagMismatch(Aborted):
    """The request's etag is not the basket's current one (ABORTED, AIP-154)."""

    reason = BasketReason.ETAG_MISMATCH

    def __init__(self, current: str) -> None:
        super().__init__(
            "the basket was changed since it was read; read it again", metadata={"etag": current}
        )
