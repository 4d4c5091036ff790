"""Composition root of the auth service: ``build`` wires the adapters into a server."""

from __future__ import annotations

from contextlib import AsyncExitStack

from agora.auth.v1 import auth_pb2_grpc
from agora.user.v1 import user_pb2_grpc
from pkg.config import MeshSettings
from pkg.events import Consumer
from pkg.mtls import client, server_credentials
from pkg.redis import redis_from_settings, redis_probe
from pkg.resources import closed_on_failure
from pkg.server import GrpcServer, Probe, Registration, health_probe, peer_identity
from services.auth.adapters import (
    FileKeyStore,
    GrpcUserDirectory,
    RedisAttemptThrottle,
    RedisRequestLog,
    RedisTokenStore,
)
from services.auth.config import AuthSettings
from services.auth.entrypoints.events import user_event_bus
from services.auth.entrypoints.grpc import SERVICE_NAME, AuthServicer
from services.auth.service import (
    AccessTokens,
    AccountChanges,
    AttemptThrottle,
    RequestLog,
    Sessions,
    SigningKeys,
    TokenStore,
    UserDirectory,
)


def build(
    settings: AuthSettings,
    mesh: MeshSettings,
    *,
    users: UserDirectory | None = None,
    tokens: TokenStore | None = None,
    throttle: AttemptThrottle | None = None,
    requests: RequestLog | None = None,
    keys: SigningKeys | None = None,
) -> GrpcServer:
    """The auth server, not started; ``server.stop()`` closes everything it opened.

    Real adapters are built for every port not passed in: Redis (one connection pool,
    ``pkg.redis``: bounded, failures are ``Unavailable``) for ``tokens``, ``throttle``
    and ``requests``, the keys directory for ``keys`` (read, or created with a first key,
    here), and the user service's stub over an mTLS channel as ``auth``
    for ``users``.  Health follows ``redis`` (PING) only, for the adapters built here:
    Refresh and Logout need no user service, and while it is down Register and Login
    answer UNAVAILABLE (``USER_UNAVAILABLE``); its gRPC health is published as the
    informational ``dependency.user`` (``HealthReporter``).  With the Redis built here,
    the server's background loop is auth's consumer (group ``auth``) of the user
    service's events: ``UserRolesChanged`` and ``UserDisabled`` end the user's sessions
    (``AccountChanges``).  Raises ``ValueError`` for
    settings unfit for ``mesh.environment``, ``OSError`` for unreadable certificates or
    keys, ``KeyError`` when ``mesh.endpoints`` has no ``user``.  Call it inside the event loop.
    Everything opened goes onto one ``AsyncExitStack``: closed by ``server.stop()``, or at
    once when ``build`` fails half-way (``pkg.resources.closed_on_failure``).
    """
    settings.check_environment(mesh.environment)
    stack = AsyncExitStack()
    with closed_on_failure(stack):
        server = _server(
            settings,
            mesh,
            stack,
            users=users,
            tokens=tokens,
            throttle=throttle,
            requests=requests,
            keys=keys,
        )
    return server


def _server(
    settings: AuthSettings,
    mesh: MeshSettings,
    stack: AsyncExitStack,
    *,
    users: UserDirectory | None,
    tokens: TokenStore | None,
    throttle: AttemptThrottle | None,
    requests: RequestLog | None,
    keys: SigningKeys | None,
) -> GrpcServer:
    probes: dict[str, Probe] = {}
    informational: dict[str, Probe] = {}
    background = []
    if tokens is None or throttle is None or requests is None:
        redis = redis_from_settings(settings)
        stack.push_async_callback(redis.aclose)
        probes["redis"] = redis_probe(redis)
        tokens = tokens or RedisTokenStore(
            redis,
            ttl_seconds=settings.refresh_token_ttl_seconds,
            lifetime_seconds=settings.family_lifetime_seconds,
        )
        throttle = throttle or RedisAttemptThrottle(redis)
        requests = requests or RedisRequestLog(
            redis, ttl_seconds=settings.register_request_ttl_seconds
        )
        consumer = Consumer(
            redis, user_event_bus(AccountChanges(tokens)), source="user", group="auth"
        )
        background.append(consumer.run)
    if users is None:
        user = client(
            stack,
            mesh.cert_dir,
            "auth",
            mesh.endpoints["user"],
            "user",
            user_pb2_grpc.UserInternalServiceStub,
        )
        informational["user"] = health_probe(user.channel)
        users = GrpcUserDirectory(user.stub, timeout=settings.user_timeout_seconds)
    if keys is None:
        store = FileKeyStore(settings.keys_dir, rescan_seconds=settings.key_rescan_seconds)
        store.load()
        keys = store
    access = AccessTokens(
        keys,
        issuer=mesh.jwt_issuer,
        audience=mesh.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
        activation_delay_seconds=settings.key_activation_delay_seconds,
    )
    sessions = Sessions(
        users=users,
        tokens=tokens,
        access=access,
        throttle=throttle,
        throttle_policy=settings.throttle_policy(),
        requests=requests,
        family_lifetime_seconds=settings.family_lifetime_seconds,
    )
    servicer = AuthServicer(
        sessions, identity_of=peer_identity, xff_trusted_hops=settings.xff_trusted_hops
    )
    return GrpcServer(
        identity="auth",
        listen=settings.listen,
        registrations=[
            Registration(SERVICE_NAME, servicer, auth_pb2_grpc.add_AuthServiceServicer_to_server)
        ],
        verifier=access,
        credentials=server_credentials(mesh.cert_dir, "auth"),
        probes=probes,
        informational_probes=informational,
        health_interval=settings.health_interval_seconds,
        grace=settings.grace_seconds,
        drain=settings.drain_seconds,
        cleanups=[stack.aclose],
        background=background,
    )
