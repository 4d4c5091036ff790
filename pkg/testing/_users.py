"""A stand-in user service that answers ``GetUser`` for the caller, for tests of a client
adapter that asks the user service about the caller's account (``users/me``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc

from agora.errors.v1.reasons import SharedReason
from agora.user.v1 import user_pb2, user_pb2_grpc
from agora.user.v1.reasons import UserReason
from pkg.errors import NotFound, Unavailable
from pkg.mtls import server_credentials
from pkg.server import GrpcServer, Registration, peer_identity, require_principal
from pkg.testing._kit import TokenMint, serving


class StandInUsers(user_pb2_grpc.UserServiceServicer):
    """``UserService.GetUser`` of ``users/me`` (or ``users/<caller>``), as the user service
    answers it: the caller's ``User`` with ``state`` STATE_ACTIVE, or STATE_DISABLED for the
    subjects in ``disabled``.

    It runs behind the real ``pkg.server`` interceptors and the rule of the contract
    (``authenticated: true``), checking tokens with a ``TokenMint``'s verifier, so a call
    that does not forward the caller's token is UNAUTHENTICATED as at the real service.
    ``calls`` records ``(caller identity, subject)`` of each call that reached it.  Other
    names are NOT_FOUND (``USER_NOT_FOUND``); while ``up`` is false every call is
    UNAVAILABLE (``DATABASE_UNAVAILABLE``, as the user service with its database down).
    Other RPCs are UNIMPLEMENTED.
    """

    def __init__(self) -> None:
        self.disabled: set[str] = set()
        self.up = True
        self.calls: list[tuple[str | None, str]] = []

    async def GetUser(
        self, request: user_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> user_pb2.User:
        principal = require_principal()
        self.calls.append((peer_identity(context), principal.subject))
        if not self.up:
            raise Unavailable(
                "the stand-in user service is down", reason=SharedReason.DATABASE_UNAVAILABLE
            )
        if request.name not in ("users/me", f"users/{principal.subject}"):
            raise NotFound(f"{request.name} does not exist", reason=UserReason.USER_NOT_FOUND)
        state = (
            user_pb2.User.STATE_DISABLED
            if principal.subject in self.disabled
            else user_pb2.User.STATE_ACTIVE
        )
        return user_pb2.User(
            name=f"users/{principal.subject}", display_name="Stand-in", state=state
        )


@asynccontextmanager
async def serving_users(cert_dir: Path, mint: TokenMint) -> AsyncIterator[tuple[str, StandInUsers]]:
    """Run a ``StandInUsers`` over mTLS as workload ``user`` (certificates from
    ``cert_dir``), accepting ``mint``'s tokens.

    Yields its target (``127.0.0.1:<port>``, for ``AGORA_ENDPOINTS["user"]``) and the
    servicer; the server stops on exit.  Raises ``OSError`` when the user certificate is
    missing.
    """
    servicer = StandInUsers()
    server = GrpcServer(
        identity="user",
        listen="127.0.0.1:0",
        verifier=mint.verifier,
        credentials=server_credentials(cert_dir, "user"),
        grace=0.5,
        registrations=[
            Registration(
                "agora.user.v1.UserService",
                servicer,
                user_pb2_grpc.add_UserServiceServicer_to_server,
            )
        ],
    )
    async with serving(server) as target:
        yield target, servicer
