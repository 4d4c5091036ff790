"""``UserDirectory`` over the user service's ``UserInternalService`` gRPC stub.

The stub's channel is an mTLS channel presenting auth's certificate (the user service
admits only the ``auth`` identity to these RPCs).  The adapter maps the user service's
messages to auth's domain itself (``Account``, role names), as every client adapter does.
"""

from __future__ import annotations

from datetime import datetime

import grpc
from google.protobuf import timestamp_pb2

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.peer_errors import domain_error, error_reason
from pkg.timestamps import timestamp_from_proto
from services.auth.domain import Account, AccountDisabled, InvalidCredentials, NewAccount


def _role_to_proto(name: str) -> user_pb2.Role.ValueType:
    return user_pb2.Role.Value(f"ROLE_{name.upper()}")


def _role_name(role: int) -> str:
    return str(user_pb2.Role.Name(role)).removeprefix("ROLE_").lower()  # type: ignore[arg-type, unused-ignore]


def _instant(stamp: timestamp_pb2.Timestamp, present: bool) -> datetime | None:
    return timestamp_from_proto(stamp) if present else None


def account_of(user: user_pb2.User) -> Account:
    """The ``Account`` of the user service's ``agora.user.v1.User`` (``users/{uuid}`` ->
    ``user_id``, ``ROLE_PROVIDER`` -> ``provider``); unset timestamps become ``None``."""
    return Account(
        user_id=user.name.removeprefix("users/"),
        email=user.email,
        display_name=user.display_name,
        roles=tuple(_role_name(r) for r in user.roles),
        create_time=_instant(user.create_time, user.HasField("create_time")),
        update_time=_instant(user.update_time, user.HasField("update_time")),
        etag=user.etag,
    )


class GrpcUserDirectory:
    """Calls ``CreateUser`` and ``VerifyCredentials`` with a deadline of ``timeout`` s.

    Every call of the ``pkg.mtls`` channel forwards the request id and trace context and
    shortens ``timeout`` to what is left of the incoming call (``pkg.mtls.propagate``).
    Errors the end user caused come back as ``pkg.errors``
    (``pkg.peer_errors.domain_error``); a wrong password as ``InvalidCredentials``, a
    disabled account (PERMISSION_DENIED, ``USER_DISABLED``) as ``AccountDisabled``;
    anything else is re-raised as ``grpc.aio.AioRpcError``.
    """

    def __init__(
        self, stub: user_pb2_grpc.UserInternalServiceStub, *, timeout: float = 5.0
    ) -> None:
        self._stub = stub
        self._timeout = timeout

    async def create_user(self, account: NewAccount) -> Account:
        """See ``UserDirectory.create_user``."""
        request = user_pb2.CreateUserRequest(
            email=account.email,
            password=account.password,
            display_name=account.display_name,
            request_id=account.request_id,
            roles=[_role_to_proto(r) for r in account.roles],
        )
        try:
            user = await self._stub.CreateUser(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise (domain_error(exc, "user") or exc) from exc
        return account_of(user)

    async def verify_credentials(self, email: str, password: str) -> Account:
        """See ``UserDirectory.verify_credentials``."""
        request = user_pb2.VerifyCredentialsRequest(email=email, password=password)
        try:
            user = await self._stub.VerifyCredentials(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNAUTHENTICATED:
                raise InvalidCredentials() from exc
            if (
                exc.code() is grpc.StatusCode.PERMISSION_DENIED
                and error_reason(exc) == "USER_DISABLED"
            ):
                raise AccountDisabled() from exc
            raise (domain_error(exc, "user") or exc) from exc
        return account_of(user)
