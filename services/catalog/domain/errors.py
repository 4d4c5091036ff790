"""The catalog service's domain errors, each with a stable ``reason`` (AIP-193 ``ErrorInfo``):
a member of ``CatalogReason``, generated from ``agora.catalog.v1.ErrorReason``.

They derive from ``pkg.errors``, whose base decides the gRPC status code; the server's
error interceptor does the mapping, so nothing here knows about gRPC.  A bad field of a
request is ``pkg.errors.InvalidField``, re-exported by ``services.catalog.domain``.
"""

from __future__ import annotations

from agora.catalog.v1.reasons import CatalogReason
from pkg.errors import Aborted, FailedPrecondition, NotFound, PermissionDenied


class ProductNotFound(NotFound):
    """No product has the given id, or the caller may not see it (NOT_FOUND)."""

    reason = CatalogReason.PRODUCT_NOT_FOUND

    def __init__(self, product_id: object) -> None:
        super().__init__(
            f"product products/{product_id} does not exist",
            metadata={"product": f"products/{product_id}"},
        )


class EtagMismatch(Aborted):
    """The request's etag is not the product's current one (ABORTED, AIP-154)."""

    reason = CatalogReason.ETAG_MISMATCH

    def __init__(self, current: str) -> None:
        super().__init__(
            "the product was changed since it was read; read it again", metadata={"etag": current}
        )


class StateTransitionInvalid(FailedPrecondition):
    """The product's state does not allow the change (FAILED_PRECONDITION): activating an
    archived product."""

    reason = CatalogReason.STATE_TRANSITION_INVALID

    def __init__(self, state: str, action: str) -> None:
        super().__init__(
            f"a product in state {state.upper()} cannot be {action}",
            metadata={"state": state.upper()},
        )


class AccountDisabled(PermissionDenied):
    """The caller's account is not active at the user service (PERMISSION_DENIED): an admin
    disabled it, or the user service no longer knows it, so it may change nothing on its
    own behalf even while its access token is still valid."""

    reason = CatalogReason.ACCOUNT_DISABLED

    def __init__(self, user_id: object) -> None:
        super().__init__("your account is disabled", metadata={"user": f"users/{user_id}"})
