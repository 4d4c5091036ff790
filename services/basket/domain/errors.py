"""The basket service's domain errors, each with a stable ``reason`` (AIP-193 ``ErrorInfo``):
a member of ``BasketReason``, generated from ``agora.basket.v1.ErrorReason``.

They derive from ``pkg.errors``, whose base decides the gRPC status code; the server's
error interceptor does the mapping, so nothing here knows about gRPC.  A bad field of a
request is ``pkg.errors.InvalidField``, re-exported by ``services.basket.domain``.
"""

from __future__ import annotations

from agora.basket.v1.reasons import BasketReason
from pkg.errors import Aborted, NotFound, PermissionDenied


class BasketNotFound(NotFound):
    """No basket has the given id (NOT_FOUND)."""

    reason = BasketReason.BASKET_NOT_FOUND

    def __init__(self, basket_id: object) -> None:
        super().__init__(f"basket {basket_id} does not exist", metadata={"basket": str(basket_id)})


class EtagMismatch(Aborted):
    """The request's etag is not the basket's current one (ABORTED, AIP-154)."""

    reason = BasketReason.ETAG_MISMATCH

    def __init__(self, current: str) -> None:
        super().__init__(
            "the basket was changed since it was read; read it again", metadata={"etag": current}
        )


class AccountDisabled(PermissionDenied):
    """The caller's account is not active at the user service (PERMISSION_DENIED): an admin
    disabled it, so it may create nothing even while its access token is still valid."""

    reason = BasketReason.ACCOUNT_DISABLED

    def __init__(self, subject: str) -> None:
        super().__init__("your account is disabled", metadata={"user": f"users/{subject}"})
