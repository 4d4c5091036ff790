"""The ``grpc.aio`` server every service runs: interceptors, health, reflection, shutdown.

Reflection (v1 and v1alpha) answers for every contract in the repository; callers coming
through the edge see only the public services and the types they use (``EdgeAwareReflection``).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from pkg.contracts import import_contracts
from pkg.obs import get_logger
from pkg.policy import rules_for_services
from pkg.principal import CachingTokenVerifier, TokenVerifier
from pkg.server._health import DrainableHealthServicer, HealthReporter, Probe
from pkg.server._interceptors import (
    AuthInterceptor,
    ErrorInterceptor,
    RequestContextInterceptor,
    ValidationInterceptor,
)
from pkg.server._reflection import V1_SERVICE_NAME, EdgeAwareReflection, add_reflection

_log = get_logger("agora.server")
MAX_METADATA_BYTES = 32 * 1024
"""The request metadata a server accepts (gRPC core counts each entry as name + value + 32
bytes; its default soft limit is 8 KiB). Above the edge's ``max_request_headers_kb`` (16 KiB)
plus what Envoy adds, so a header block the edge forwards is never refused for its size."""
MAX_MESSAGE_BYTES = 1024 * 1024
"""The largest request message a server accepts (gRPC's default is 4 MiB): the edge's cap
on a request body (``pkg.edge`` ``MAX_REQUEST_BYTES``), so a message the edge forwards is
never refused here, while a caller inside the mesh cannot make a server parse and validate
a larger one (a 3.8 MB list of 75,000 items costs about 0.1 s to answer with its
violations).  Larger messages are RESOURCE_EXHAUSTED before any interceptor runs."""
_OPEN_SERVICES = frozenset({health.SERVICE_NAME, reflection.SERVICE_NAME, V1_SERVICE_NAME})


_IDENTITIES: dict[bytes, str | None] = {}
_IDENTITIES_MAX = 1024


def peer_identity(context: grpc.aio.ServicerContext) -> str | None:
    """The caller's workload name from its mTLS certificate's SPIFFE ID, if any.

    Read from ``context.auth_context()`` (``pkg.pki.caller_identity``) once per peer
    certificate: the answer is remembered by the certificate's PEM text
    (``x509_pem_cert``), for at most ``_IDENTITIES_MAX`` certificates (then forgotten
    all at once; certificates are renewed every few hours).
    """
    from pkg.pki import caller_identity

    auth = context.auth_context()
    pem = auth.get("x509_pem_cert")
    if not pem:
        return caller_identity(auth)
    key = pem[0]
    try:
        return _IDENTITIES[key]
    except KeyError:
        pass
    identity = caller_identity(auth)
    if len(_IDENTITIES) >= _IDENTITIES_MAX:
        _IDENTITIES.clear()
    _IDENTITIES[key] = identity
    return identity


def _request_types(service_names: list[str]) -> list[type[Message]]:
    """The generated request message classes of every method of the named services."""
    pool = descriptor_pool.Default()
    return [
        message_factory.GetMessageClass(method.input_type)
        for name in service_names
        for method in pool.FindServiceByName(name).methods
    ]


@dataclass(frozen=True)
class Registration:
    """One servicer: ``add`` is the generated ``add_<Service>Servicer_to_server``."""

    name: str
    servicer: object
    add: Callable[[Any, grpc.aio.Server], None]


@dataclass
class GrpcServer:
    """A service's ``grpc.aio`` server, built from its parts by the service's ``app.py``.

    Every RPC passes the request-context, error, auth and validation interceptors; the
    access rules of the registered services are read from the contracts at construction
    (``PolicyError`` if one is missing).  ``probes`` decide the health of the whole
    process; ``informational_probes`` are only published (``HealthReporter``).
    ``credentials`` ``None`` means an insecure port
    (tests only).  ``drain`` and ``grace`` (seconds) shape ``stop``.  ``background`` are
    loops (``pkg.events.Relay.run``, ``Consumer.run``: coroutine functions that run until
    cancelled) started with the server and cancelled after it stopped serving, before the
    ``cleanups``, which run in reverse order.  A loop that ends with an exception is logged
    and started again after a second (never a dead loop in a live process).
    """

    identity: str
    listen: str
    registrations: Sequence[Registration]
    verifier: TokenVerifier
    credentials: grpc.ServerCredentials | None
    probes: Mapping[str, Probe] = field(default_factory=dict)
    informational_probes: Mapping[str, Probe] = field(default_factory=dict)
    identity_of: Callable[[grpc.aio.ServicerContext], str | None] = peer_identity
    health_interval: float = 2.0
    grace: float = 5.0
    drain: float = 0.0
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: Sequence[Callable[[], Awaitable[None]]] = ()

    def __post_init__(self) -> None:
        all_services = import_contracts()
        names = [r.name for r in self.registrations]
        rules = rules_for_services(names)
        self.server = grpc.aio.server(
            interceptors=[
                RequestContextInterceptor(self.identity_of, frozenset({health.SERVICE_NAME})),
                ErrorInterceptor(),
                AuthInterceptor(
                    rules, CachingTokenVerifier(self.verifier), self.identity_of, _OPEN_SERVICES
                ),
                ValidationInterceptor(_request_types(names)),
            ],
            options=[
                ("grpc.so_reuseport", 0),
                ("grpc.max_metadata_size", MAX_METADATA_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        for registration in self.registrations:
            registration.add(registration.servicer, self.server)
        self.health = DrainableHealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        add_reflection(
            EdgeAwareReflection(
                [*all_services, health.SERVICE_NAME, reflection.SERVICE_NAME], self.identity_of
            ),
            self.server,
        )
        self.reporter = HealthReporter(
            self.health,
            names,
            self.probes,
            interval=self.health_interval,
            informational=self.informational_probes,
        )
        self.port = 0
        self._loops: list[asyncio.Task[None]] = []

    async def start(self) -> int:
        """Bind, start serving and probing; return the bound port."""
        if self.credentials is None:
            self.port = self.server.add_insecure_port(self.listen)
        else:
            self.port = self.server.add_secure_port(self.listen, self.credentials)
        await self.server.start()
        await self.reporter.check_once()
        self.reporter.start()
        self._loops = [
            asyncio.create_task(_keep_running(loop), name=_loop_name(loop))
            for loop in self.background
        ]
        _log.info(
            "serving", extra={"listen": self.listen, "port": self.port, "identity": self.identity}
        )
        return self.port

    async def stop(self) -> None:
        """Graceful shutdown: drain, stop with grace, run cleanups.

        Every health service name turns NOT_SERVING at once (open Watch streams are told),
        while the server keeps answering for ``drain`` seconds, so that balancers polling
        health (the edge: every 1 s, unhealthy after 2) and channels watching it stop
        sending new calls; then the Watch streams are ended and ``server.stop(grace)``
        gives calls in flight up to ``grace`` seconds.  See docs/adr/0013.
        """
        await self.reporter.stop()
        if self.drain > 0:
            _log.info("draining", extra={"drain_seconds": self.drain})
            await asyncio.sleep(self.drain)
        self.health.end_watches()
        await self.server.stop(self.grace)
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        for cleanup in reversed(self.cleanups):
            try:
                await cleanup()
            except Exception:
                _log.exception("cleanup failed")
        _log.info("stopped")

    async def serve_until_signalled(self) -> None:
        """Start, then stop on SIGTERM or SIGINT."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        await stop.wait()
        _log.info("shutting down")
        await self.stop()


def _loop_name(loop: Callable[[], Awaitable[None]]) -> str:
    return str(getattr(loop, "__qualname__", repr(loop)))


async def _keep_running(loop: Callable[[], Awaitable[None]]) -> None:
    """Run ``loop`` until cancelled; when it ends (it should not), log and start it again
    after one second."""
    task = asyncio.current_task()
    while True:
        try:
            await loop()
            _log.error("background loop ended", extra={"loop": _loop_name(loop)})
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("background loop failed", extra={"loop": _loop_name(loop)})
        if task is not None and task.cancelling():
            # the loop swallowed our cancellation (a driver caught it): stop, never restart
            raise asyncio.CancelledError
        await asyncio.sleep(1.0)


def health_probe(channel: grpc.aio.Channel, service: str = "") -> Probe:
    """A probe that asks another service's ``grpc.health.v1`` whether it is SERVING."""
    stub = health_pb2_grpc.HealthStub(channel)

    async def probe() -> bool:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1.0)
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    return probe
