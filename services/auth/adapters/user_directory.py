"""``UserDirectory`` over the user service's ``UserInternalService`` gRPC stub.

The stub's channel is an mTLS channel presenting auth's certificate (the user service
admits only the ``auth`` identity to these RPCs).
"""

from __future__ import annotations

import grpc

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.peer_errors import domain_error, error_reason
from services.auth.domain import Account, AccountDisabled, InvalidCredentials, NewAccount
from services.auth.entrypoints.grpc import mappers


class GrpcUserDirectory:
    """Calls ``CreateUser`` and ``VerifyCredentials`` with a deadline of ``timeout`` s.

    The channel's ``pkg.mtls`` client interceptor forwards the request id and trace
    context and shortens ``timeout`` to what is left of the incoming call.  Errors the end
    user caused come back as ``pkg.errors`` (``pkg.peer_errors.domain_error``); a wrong
    password as ``InvalidCredentials``, a disabled account (PERMISSION_DENIED,
    ``USER_DISABLED``) as ``AccountDisabled``; anything else is re-raised as
    ``grpc.aio.AioRpcError``.
    """

    def __init__(self, stub: user_pb2_grpc.UserInternalServiceStub, *,
                 timeout: float = 5.0) -> None:
        self._stub = stub
        self._timeout = timeout

    async def create_user(self, account: NewAccount) -> Account:
        """See ``UserDirectory.create_user``."""
        request = user_pb2.CreateUserRequest(
            email=account.email, password=account.password,
            display_name=account.display_name, request_id=account.request_id,
            roles=[mappers.role_to_proto(r) for r in account.roles])
        try:
            user = await self._stub.CreateUser(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise (domain_error(exc, "user") or exc) from exc
        return mappers.account_from_proto(user)

    async def verify_credentials(self, email: str, password: str) -> Account:
        """See ``UserDirectory.verify_credentials``."""
        request = user_pb2.VerifyCredentialsRequest(email=email, password=password)
        try:
            user = await self._stub.VerifyCredentials(request,
                                                      timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNAUTHENTICATED:
                raise InvalidCredentials() from exc
            if (exc.code() is grpc.StatusCode.PERMISSION_DENIED
                    and error_reason(exc) == "USER_DISABLED"):
                raise AccountDisabled() from exc
            raise (domain_error(exc, "user") or exc) from exc
        return mappers.account_from_proto(user)
