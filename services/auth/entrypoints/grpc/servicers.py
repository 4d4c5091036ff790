"""The ``agora.auth.v1.AuthService`` servicer: mapper -> use case -> mapper.

Validation (protovalidate), authentication (LogoutAll) and error mapping are done by the
shared interceptors of ``pkg.server.GrpcServer`` before and after these handlers.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.api import httpbody_pb2
from google.protobuf import empty_pb2

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg.server import peer_identity, require_principal
from services.auth.entrypoints.grpc import mappers
from services.auth.service import Sessions

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    """Register, Login, Refresh, Logout, LogoutAll and GetJwks over ``Sessions``.

    ``identity_of`` reads the caller's mTLS identity (``pkg.server.peer_identity``);
    ``xff_trusted_hops`` is passed to ``mappers.client_address``.
    """

    def __init__(
        self,
        sessions: Sessions,
        *,
        identity_of: Callable[[grpc.aio.ServicerContext], str | None] = peer_identity,
        xff_trusted_hops: int = 0,
    ) -> None:
        self._sessions = sessions
        self._identity_of = identity_of
        self._hops = xff_trusted_hops

    async def Register(
        self, request: auth_pb2.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.RegisterResponse:
        """Create the user (user service) and open a session; ALREADY_EXISTS
        (EMAIL_TAKEN), INVALID_ARGUMENT (IDEMPOTENCY_KEY_REUSED: a request_id replayed
        with another request or password gets no session), RESOURCE_EXHAUSTED
        (TOO_MANY_ATTEMPTS: a replay while the account or address is throttled),
        UNAVAILABLE (USER_UNAVAILABLE)."""
        address = mappers.parse_client_address(context, self._identity_of, self._hops)
        account, pair = await self._sessions.register(
            mappers.new_account_from_proto(request), client_address=address
        )
        return auth_pb2.RegisterResponse(
            user=mappers.account_to_proto(account), tokens=mappers.token_pair_to_proto(pair)
        )

    async def Login(
        self, request: auth_pb2.LoginRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.TokenPair:
        """A new session; UNAUTHENTICATED (INVALID_CREDENTIALS), RESOURCE_EXHAUSTED
        (TOO_MANY_ATTEMPTS, with RetryInfo), UNAVAILABLE (USER_UNAVAILABLE)."""
        address = mappers.parse_client_address(context, self._identity_of, self._hops)
        pair = await self._sessions.login(request.email, request.password, client_address=address)
        return mappers.token_pair_to_proto(pair)

    async def Refresh(
        self, request: auth_pb2.RefreshRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.TokenPair:
        """Rotate the refresh token; UNAUTHENTICATED (INVALID_REFRESH_TOKEN,
        REFRESH_TOKEN_REUSED: the whole family is revoked, SESSION_EXPIRED: past the
        family's absolute lifetime)."""
        return mappers.token_pair_to_proto(await self._sessions.refresh(request.refresh_token))

    async def Logout(
        self, request: auth_pb2.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Revoke the refresh token's family; an unknown token is no error."""
        await self._sessions.logout(request.refresh_token)
        return empty_pb2.Empty()

    async def LogoutAll(
        self, request: auth_pb2.LogoutAllRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Revoke every session of the access token's subject."""
        await self._sessions.logout_all(require_principal().subject)
        return empty_pb2.Empty()

    async def GetJwks(
        self, request: auth_pb2.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        """The public signing keys as a JWK Set (RFC 7517), ``application/json``."""
        return mappers.jwks_to_proto(await self._sessions.jwks())
