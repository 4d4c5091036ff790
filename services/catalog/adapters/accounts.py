"""``Accounts`` over the user service's ``UserService.GetUser`` gRPC stub.

The stub's channel is an mTLS channel presenting the catalog service's certificate
(``pkg.mtls.client``); the call carries the caller's own access token
(``pkg.mtls.forwarded_authorization``), so the user service applies its rule
(``authenticated: true``) and resolves ``users/me`` to the same caller the catalog
verified.  This adapter maps the user service's ``User.state`` itself.
"""

from __future__ import annotations

from uuid import UUID

import grpc

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.mtls import forwarded_authorization
from pkg.peer_errors import domain_error
from services.catalog.domain import AccountDisabled

PEER = "user"
"""The service asked (its name in ``AGORA_ENDPOINTS`` and its certificate's)."""


class GrpcAccounts:
    """Asks ``GetUser(name="users/me")`` with a deadline of ``timeout`` seconds.

    The channel's ``pkg.mtls`` client interceptor forwards the request id and trace
    context and shortens ``timeout`` to what is left of the incoming call.  An account
    whose ``state`` is not ``STATE_ACTIVE``, that the user service no longer knows
    (NOT_FOUND), or an answer about another account, is ``AccountDisabled``.  Other
    errors the end user caused come back as ``pkg.errors``
    (``pkg.peer_errors.domain_error``; the user service down or too slow: ``Unavailable``
    with reason ``USER_UNAVAILABLE``); anything else is re-raised as
    ``grpc.aio.AioRpcError`` (INTERNAL at the caller: a bug between services).
    """

    def __init__(self, stub: user_pb2_grpc.UserServiceStub, *, timeout: float = 5.0) -> None:
        self._stub = stub
        self._timeout = timeout

    async def require_active(self, user_id: UUID) -> None:
        """See ``Accounts.require_active``.  Raises ``Unauthenticated`` when no verified
        access token is bound to the running call (``pkg.mtls.forwarded_authorization``)."""
        request = user_pb2.GetUserRequest(name="users/me")
        try:
            user = await self._stub.GetUser(
                request, metadata=forwarded_authorization(), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.NOT_FOUND:
                raise AccountDisabled(user_id) from exc
            raise (domain_error(exc, PEER) or exc) from exc
        if user.name != f"users/{user_id}" or user.state != user_pb2.User.STATE_ACTIVE:
            raise AccountDisabled(user_id)
