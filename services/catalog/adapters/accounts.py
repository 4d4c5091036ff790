"""``Accounts`` over the user service (``pkg.accounts.caller_is_active``)."""

from __future__ import annotations

from uuid import UUID

from agora.user.v1 import user_pb2_grpc
from pkg.accounts import PEER, caller_is_active
from services.catalog.domain import AccountDisabled

__all__ = ["PEER", "GrpcAccounts"]


class GrpcAccounts:
    """Asks the user service about the caller's account, with a deadline of ``timeout``
    seconds; see ``pkg.accounts.caller_is_active`` for the errors."""

    def __init__(self, stub: user_pb2_grpc.UserServiceStub, *, timeout: float = 5.0) -> None:
        self._stub = stub
        self._timeout = timeout

    async def require_active(self, user_id: UUID) -> None:
        """See ``Accounts.require_active``: ``AccountDisabled`` unless active."""
        if not await caller_is_active(self._stub, str(user_id), seconds=self._timeout):
            raise AccountDisabled(user_id)
