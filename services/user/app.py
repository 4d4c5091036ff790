"""Composition root of the user service: builds the server and everything it uses.

``build`` wires settings -> engine (pool), reader, Redis -> queries, units of work,
hasher, token verifier -> use cases -> servicers -> ``GrpcServer``, with the outbox relay
(``pkg.events.Relay``) as the server's background loop.  Every resource is opened into
one ``AsyncExitStack`` that the server closes on stop, and that is closed at once when
``build`` fails half-way.
Nothing here runs at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import timedelta

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.clock import utcnow
from pkg.config import MeshSettings
from pkg.db import (
    database_probe,
    engine_from_settings,
    reader_from_settings,
    session_factory,
)
from pkg.events import Relay
from pkg.jwks import auth_token_verifier
from pkg.mtls import server_credentials
from pkg.redis import redis_from_settings, redis_probe
from pkg.resources import closed_on_failure
from pkg.server import GrpcServer, Probe, Registration, TokenVerifier
from pkg.sql_uow import SqlUnitOfWork
from services.user.adapters.hashing import Argon2Hasher
from services.user.adapters.repository import SqlUserQueries, SqlUserRepositories
from services.user.config import UserSettings
from services.user.domain import Role, User
from services.user.entrypoints.grpc import UserInternalServicer, UserServicer
from services.user.entrypoints.grpc.mappers import event_to_message
from services.user.service import Accounts, Administration, Profiles, UserUnitOfWork

IDENTITY = "user"


def _service(name: str) -> str:
    return str(user_pb2.DESCRIPTOR.services_by_name[name].full_name)


def _hasher(settings: UserSettings) -> Argon2Hasher:
    return Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
        workers=settings.hash_workers,
    )


def units_of_work(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], UserUnitOfWork]:
    """A factory of the user service's units of work on ``sessions`` (one per use case
    call: ``SqlUnitOfWork`` is not reentrant), mapping events with ``event_to_message``."""

    def unit() -> UserUnitOfWork:
        return SqlUnitOfWork(
            sessions, source=IDENTITY, mapper=event_to_message, repositories=SqlUserRepositories
        )

    return unit


def build(
    settings: UserSettings, mesh: MeshSettings, *, verifier: TokenVerifier | None = None
) -> GrpcServer:
    """The user service's server, not yet started; call inside a running event loop.

    Serves ``agora.user.v1.UserService`` and ``UserInternalService`` with mTLS as
    ``user`` from ``mesh.cert_dir``.  Access tokens are checked against auth's JWKS,
    fetched over mTLS from ``mesh.endpoints["auth"]``, unless ``verifier`` is given
    (tests); the last good keys are kept in ``settings.jwks_cache_file`` when set.  The
    probe ``jwks`` (keys held; it fetches them when due) is published as the health name
    ``dependency.jwks`` without deciding the overall health, since auth waits for a
    healthy user service at start.  Health follows the database
    (``SELECT 1``); database failures are ``Unavailable`` within the timeouts of
    ``settings`` (``pkg.db``).  Every write commits its events to the outbox; the relay
    publishes them to ``agora:events:{user}`` in ``settings.redis_url`` (every worker
    runs one; they share the rows with ``SKIP LOCKED``); Redis's health is published as
    ``dependency.redis`` only: while it is down, requests are served and events wait in
    the outbox.  Raises ``OSError`` when a certificate file is missing and
    ``ValueError`` when no auth endpoint is configured.
    """
    credentials = server_credentials(mesh.cert_dir, IDENTITY)  # reloads renewed files
    stack = AsyncExitStack()
    with closed_on_failure(stack):
        server = _server(settings, mesh, stack, credentials, verifier)
    return server


def _server(
    settings: UserSettings,
    mesh: MeshSettings,
    stack: AsyncExitStack,
    credentials: grpc.ServerCredentials,
    verifier: TokenVerifier | None,
) -> GrpcServer:
    informational: dict[str, Probe] = {}
    if verifier is None:
        jwks = auth_token_verifier(stack, mesh, IDENTITY, cache_file=settings.jwks_cache_file)
        informational["jwks"] = jwks.probe
        verifier = jwks
    engine = engine_from_settings(settings)
    stack.push_async_callback(engine.dispose)
    reads = reader_from_settings(settings)
    stack.push_async_callback(reads.close)
    hasher = _hasher(settings)
    stack.push_async_callback(hasher.close)
    redis = redis_from_settings(settings)
    stack.push_async_callback(redis.aclose)
    informational["redis"] = redis_probe(redis)
    sessions = session_factory(engine, timeout=settings.database_timeout_seconds)
    users, units = SqlUserQueries(sessions, reads), units_of_work(sessions)
    profiles = Profiles(users, units, clock=utcnow)
    administration = Administration(units, clock=utcnow)
    accounts = Accounts(
        users,
        units,
        hasher,
        clock=utcnow,
        key_ttl=timedelta(seconds=settings.idempotency_key_ttl_seconds),
    )
    relay = Relay(sessions, redis, source=IDENTITY, listen_url=settings.database_url)
    probes: dict[str, Probe] = {"database": database_probe(engine)}
    return GrpcServer(
        identity=IDENTITY,
        listen=settings.listen,
        registrations=[
            Registration(
                _service("UserService"),
                UserServicer(profiles, administration),
                user_pb2_grpc.add_UserServiceServicer_to_server,
            ),
            Registration(
                _service("UserInternalService"),
                UserInternalServicer(accounts),
                user_pb2_grpc.add_UserInternalServiceServicer_to_server,
            ),
        ],
        verifier=verifier,
        credentials=credentials,
        probes=probes,
        informational_probes=informational,
        health_interval=settings.health_interval_seconds,
        grace=settings.grace_seconds,
        drain=settings.drain_seconds,
        cleanups=[stack.aclose],
        background=[relay.run],
    )


async def create_admin(
    settings: UserSettings, *, email: str, password: str, display_name: str
) -> User:
    """Create an admin user directly in the database (the operator's CLI).

    Same rules as CreateUser except that the role is admin; its ``UserCreated`` waits in
    the outbox for a running service's relay.  Raises ``InvalidField`` and ``EmailTaken``.
    """
    engine = engine_from_settings(settings, pool_size=1, max_overflow=0)
    hasher = _hasher(settings)
    reads = reader_from_settings(settings, size=1)
    try:
        sessions = session_factory(engine)
        accounts = Accounts(
            SqlUserQueries(sessions, reads), units_of_work(sessions), hasher, clock=utcnow
        )
        return await accounts.create_user(
            email=email,
            password=password,
            display_name=display_name,
            roles=[Role.ADMIN],
            allow_admin=True,
        )
    finally:
        await reads.close()
        await hasher.close()
        await engine.dispose()
