"""The account check every service that acts for a signed-in caller makes: is the
caller's account active?  Asked of the user service's ``UserService.GetUser`` through its
generated stub (docs/adr/0017).

The stub's channel is an mTLS channel presenting the asking service's certificate
(``pkg.mtls.client``); the call carries the caller's own access token
(``pkg.mtls.forwarded_authorization``), so the user service applies its rule
(``authenticated: true``) and resolves ``users/me`` to the caller the asking service
verified.  Each service wraps ``caller_is_active`` in its ``Accounts`` adapter and raises
its own domain error (``AccountDisabled``) for ``False``.
"""

from __future__ import annotations

import grpc

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.mtls import forwarded_authorization
from pkg.peer_errors import domain_error

PEER = "user"
"""The service asked (its name in ``AGORA_ENDPOINTS`` and its certificate's)."""


async def caller_is_active(
    stub: user_pb2_grpc.UserServiceStub, subject: str, *, seconds: float
) -> bool:
    """Whether the account of the running call's caller (token subject ``subject``, a
    user id) exists and is ``STATE_ACTIVE``: ``GetUser(name="users/me")`` with a deadline
    of ``seconds``, shortened to what is left of the incoming call
    (``pkg.mtls.propagate``).

    ``False`` for an account that is not active, that the user service no longer knows
    (NOT_FOUND), or an answer about another account.  Other errors the end user caused
    come back as ``pkg.errors`` (``pkg.peer_errors.domain_error``; the user service down
    or too slow: ``Unavailable`` with reason ``USER_UNAVAILABLE``); ``Unauthenticated``
    when no verified access token is bound to the running call; anything else is
    re-raised as ``grpc.aio.AioRpcError`` (INTERNAL at the caller: a bug between
    services).
    """
    request = user_pb2.GetUserRequest(name="users/me")
    try:
        user = await stub.GetUser(request, metadata=forwarded_authorization(), timeout=seconds)
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.NOT_FOUND:
            return False
        raise (domain_error(exc, PEER) or exc) from exc
    return user.name == f"users/{subject}" and user.state == user_pb2.User.STATE_ACTIVE
