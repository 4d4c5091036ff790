"""The gRPC servicers of ``agora.user.v1``: request -> mapper -> use case -> mapper -> reply.

Access rules (who may call which RPC) come from the contract and are enforced by the
server's interceptors before these run; the use cases check per-user permissions.
"""

from __future__ import annotations

import grpc

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.fields import parse_request_id, request_fields
from pkg.server import peer_identity, require_principal
from services.user.entrypoints.grpc import mappers
from services.user.service import Accounts, Administration, Profiles

_UPDATE_FIELDS = {"display_name": "user.display_name"}


class UserServicer(user_pb2_grpc.UserServiceServicer):
    """``agora.user.v1.UserService``: profiles, for callers with an access token, and
    admins' changes to accounts."""

    def __init__(self, profiles: Profiles, administration: Administration) -> None:
        self._profiles = profiles
        self._administration = administration

    async def GetUser(
        self, request: user_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        """Any caller with a token; email only for themself and admins. NOT_FOUND."""
        caller = mappers.caller_from_principal(require_principal())
        view = await self._profiles.get_user(caller, mappers.parse_user_name(request.name, caller))
        return mappers.user_to_proto(view.user, show_email=view.show_email)

    async def UpdateUser(
        self, request: user_pb2.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        """The user themself or an admin; PERMISSION_DENIED, ABORTED (stale etag),
        INVALID_ARGUMENT (update_mask, user.display_name), NOT_FOUND."""
        caller = mappers.caller_from_principal(require_principal())
        user_id = mappers.parse_user_name(request.user.name, caller, field="user.name")
        with request_fields(_UPDATE_FIELDS):
            view = await self._profiles.update_profile(
                caller,
                user_id,
                display_name=request.user.display_name,
                fields=list(request.update_mask.paths),
                etag=request.user.etag or None,
            )
        return mappers.user_to_proto(view.user, show_email=view.show_email)

    async def SetUserRoles(
        self, request: user_pb2.SetUserRolesRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        """Admins; ABORTED (stale etag), FAILED_PRECONDITION (SELF_LOCKOUT), NOT_FOUND,
        INVALID_ARGUMENT (name, roles)."""
        caller = mappers.caller_from_principal(require_principal())
        user = await self._administration.set_roles(
            caller,
            mappers.parse_account_name(request.name),
            mappers.roles_from_proto(request.roles),
            etag=request.etag or None,
        )
        return mappers.user_to_proto(user, show_email=True)

    async def DisableUser(
        self, request: user_pb2.DisableUserRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        """Admins; ABORTED (stale etag), FAILED_PRECONDITION (SELF_LOCKOUT), NOT_FOUND."""
        caller = mappers.caller_from_principal(require_principal())
        user = await self._administration.disable(
            caller, mappers.parse_account_name(request.name), etag=request.etag or None
        )
        return mappers.user_to_proto(user, show_email=True)

    async def EnableUser(
        self, request: user_pb2.EnableUserRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        """Admins; ABORTED (stale etag), NOT_FOUND."""
        caller = mappers.caller_from_principal(require_principal())
        user = await self._administration.enable(
            caller, mappers.parse_account_name(request.name), etag=request.etag or None
        )
        return mappers.user_to_proto(user, show_email=True)

    async def ListUsers(
        self, request: user_pb2.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.ListUsersResponse:
        """Admins; newest first; INVALID_ARGUMENT for a bad page_token."""
        caller = mappers.caller_from_principal(require_principal())
        page = await self._profiles.list_users(
            caller, requested_size=request.page_size, page_token=request.page_token
        )
        return user_pb2.ListUsersResponse(
            users=[
                mappers.user_to_proto(u, show_email=caller.may_see_private(u)) for u in page.users
            ],
            next_page_token=page.next_page_token,
        )


class UserInternalServicer(user_pb2_grpc.UserInternalServiceServicer):
    """``agora.user.v1.UserInternalService``: credentials, for the auth service only."""

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    async def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        """Idempotent per (caller identity, request_id) for ``key_ttl``; ALREADY_EXISTS
        (EMAIL_TAKEN), INVALID_ARGUMENT (IDEMPOTENCY_KEY_REUSED, field violations)."""
        user = await self._accounts.create_user(
            email=request.email,
            password=request.password,
            display_name=request.display_name,
            roles=mappers.roles_from_proto(request.roles),
            request_id=parse_request_id(request.request_id),
            scope=peer_identity(context) or "",
        )
        return mappers.user_to_proto(user, show_email=True)

    async def VerifyCredentials(
        self, request: user_pb2.VerifyCredentialsRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        """The user, or UNAUTHENTICATED (INVALID_CREDENTIALS) alike for every mismatch."""
        user = await self._accounts.verify_credentials(
            email=request.email, password=request.password
        )
        return mappers.user_to_proto(user, show_email=True)
