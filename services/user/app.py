"""Composition root of the user service: builds the server and everything it uses.

``build`` wires settings -> engine (pool) -> repository, hasher, token verifier ->
servicers -> ``GrpcServer``; the server's cleanups close what was opened.  Nothing here
runs at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.config import MeshSettings
from pkg.db import Reader, create_engine, database_probe, session_factory
from pkg.mtls import secure_channel, server_credentials
from pkg.server import GrpcServer, JwksTokenVerifier, Probe, Registration, TokenVerifier
from services.user.adapters.auth_client import jwks_fetcher
from services.user.adapters.hashing import Argon2Hasher
from services.user.adapters.repository import SqlUserRepository
from services.user.config import UserSettings
from services.user.domain import Role, User
from services.user.entrypoints.grpc import UserInternalServicer, UserServicer
from services.user.service import create_user

IDENTITY = "user"


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def _service(name: str) -> str:
    return str(user_pb2.DESCRIPTOR.services_by_name[name].full_name)


def _hasher(settings: UserSettings) -> Argon2Hasher:
    return Argon2Hasher(time_cost=settings.argon2_time_cost,
                        memory_cost=settings.argon2_memory_cost_kib,
                        parallelism=settings.argon2_parallelism, workers=settings.hash_workers)


def _engine(settings: UserSettings, pool_size: int, max_overflow: int, *,
            autocommit: bool = False) -> AsyncEngine:
    return create_engine(settings.database_url, pool_size=pool_size, max_overflow=max_overflow,
                         connect_timeout=settings.database_connect_timeout_seconds,
                         statement_timeout=settings.database_statement_timeout_seconds,
                         pool_timeout=settings.database_pool_timeout_seconds,
                         autocommit=autocommit)


def build(settings: UserSettings, mesh: MeshSettings, *,
          verifier: TokenVerifier | None = None) -> GrpcServer:
    """The user service's server, not yet started; call inside a running event loop.

    Serves ``agora.user.v1.UserService`` and ``UserInternalService`` with mTLS as
    ``user`` from ``mesh.cert_dir``.  Access tokens are checked against auth's JWKS,
    fetched over mTLS from ``mesh.endpoints["auth"]``, unless ``verifier`` is given
    (tests); the last good keys are kept in ``settings.jwks_cache_file`` when set.  The
    probe ``jwks`` (keys held; it fetches them when due) is published as the health name
    ``dependency.jwks`` without deciding the overall health, since auth waits for a
    healthy user service at start.  Health follows the database
    (``SELECT 1``); database failures are ``Unavailable`` within the timeouts of
    ``settings`` (``pkg.db``).  Raises ``OSError`` when a certificate file is missing and
    ``ValueError`` when no auth endpoint is configured.
    """
    credentials = server_credentials(mesh.cert_dir, IDENTITY)  # reloads renewed files
    if verifier is None and "auth" not in mesh.endpoints:
        raise ValueError("AGORA_ENDPOINTS has no 'auth' target (needed for its JWKS)")
    engine = _engine(settings, settings.database_pool_size, settings.database_max_overflow)
    reads = _engine(settings, settings.database_pool_size, settings.database_max_overflow,
                    autocommit=True)
    timeout = settings.database_timeout_seconds
    users = SqlUserRepository(session_factory(engine, timeout=timeout),
                              Reader(reads, timeout=timeout))
    hasher = _hasher(settings)
    cleanups: list[Callable[[], Awaitable[None]]] = [engine.dispose, reads.dispose,
                                                     hasher.close]
    probes: dict[str, Probe] = {"database": database_probe(engine)}
    informational: dict[str, Probe] = {}
    if verifier is None:
        # A ReloadingChannel: the stub below re-binds to a new channel when user.crt is renewed.
        channel = secure_channel(mesh.cert_dir, IDENTITY, mesh.endpoints["auth"], "auth")
        jwks = JwksTokenVerifier(
            jwks_fetcher(channel), issuer=mesh.jwt_issuer, audience=mesh.jwt_audience,
            cache_file=Path(settings.jwks_cache_file) if settings.jwks_cache_file else None)
        informational["jwks"] = jwks.probe
        verifier = jwks
        cleanups.append(channel.close)
    return GrpcServer(
        identity=IDENTITY, listen=settings.listen,
        registrations=[
            Registration(_service("UserService"), UserServicer(users, utcnow),
                         user_pb2_grpc.add_UserServiceServicer_to_server),
            Registration(_service("UserInternalService"),
                         UserInternalServicer(users, hasher, utcnow, key_ttl=timedelta(
                             seconds=settings.idempotency_key_ttl_seconds)),
                         user_pb2_grpc.add_UserInternalServiceServicer_to_server),
        ],
        verifier=verifier, credentials=credentials,
        probes=probes, informational_probes=informational,
        health_interval=settings.health_interval_seconds, grace=settings.grace_seconds,
        drain=settings.drain_seconds,
        cleanups=cleanups)


async def create_admin(settings: UserSettings, *, email: str, password: str,
                       display_name: str) -> User:
    """Create an admin user directly in the database (the operator's CLI).

    Same rules as CreateUser except that the role is admin.  Raises ``InvalidField``
    and ``EmailTaken``.
    """
    engine = _engine(settings, 1, 0)
    hasher = _hasher(settings)
    try:
        return await create_user(SqlUserRepository(session_factory(engine), Reader(engine)), hasher,
                                 email=email, password=password, display_name=display_name,
                                 roles=[Role.ADMIN], now=utcnow, allow_admin=True)
    finally:
        await hasher.close()
        await engine.dispose()
