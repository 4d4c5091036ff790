"""Composition root of the basket service: builds the server and everything it uses.

``build`` wires settings -> Redis (baskets, the catalog's events), token verifier, the
catalog's client -> use cases -> servicers -> ``GrpcServer``, with the consumer of the
catalog's stream (``pkg.events.Consumer``, group ``basket``) as the server's background
loop.  Every resource is opened into one ``AsyncExitStack`` that the server closes on
stop, and that is closed at once when ``build`` fails half-way.  Nothing here runs at
import time.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta

import grpc

from agora.basket.v1 import basket_pb2, basket_pb2_grpc
from agora.catalog.v1 import catalog_pb2_grpc
from pkg.clock import utcnow
from pkg.config import MeshSettings
from pkg.events import Consumer
from pkg.jwks import auth_token_verifier
from pkg.mtls import client, server_credentials
from pkg.redis import redis_from_settings, redis_probe
from pkg.resources import closed_on_failure
from pkg.server import GrpcServer, Probe, Registration, TokenVerifier, health_probe
from services.basket.adapters.catalog import PEER, GrpcCatalog
from services.basket.adapters.redis_baskets import RedisBasketStore
from services.basket.config import BasketSettings
from services.basket.entrypoints.events import catalog_event_bus
from services.basket.entrypoints.grpc import BasketInternalServicer, BasketServicer
from services.basket.service import Baskets, Catalog, CatalogChanges

IDENTITY = "basket"


def _service(name: str) -> str:
    return str(basket_pb2.DESCRIPTOR.services_by_name[name].full_name)


def build(
    settings: BasketSettings,
    mesh: MeshSettings,
    *,
    verifier: TokenVerifier | None = None,
    catalog: Catalog | None = None,
) -> GrpcServer:
    """The basket service's server, not yet started; call inside a running event loop.

    Serves ``agora.basket.v1.BasketService`` and ``BasketInternalService`` with mTLS as
    ``basket`` from ``mesh.cert_dir``.  Access tokens are checked against auth's JWKS,
    fetched over mTLS from ``mesh.endpoints["auth"]`` (``pkg.jwks``), unless ``verifier``
    is given (tests); the last good keys are kept in ``settings.jwks_cache_file`` when
    set, and the probe ``jwks`` is informational.  Baskets live in ``settings.redis_url``
    (``RedisBasketStore``, amounts in ``mesh.currency``); health follows Redis (PING).
    AddBasketItem asks the catalog at ``mesh.endpoints["catalog"]``
    (``CatalogInternalService`` over mTLS as ``basket``, deadline
    ``settings.catalog_timeout_seconds``) unless ``catalog`` is given (tests); its gRPC
    health is published as ``dependency.catalog`` only: while it is down AddBasketItem is
    UNAVAILABLE (``CATALOG_UNAVAILABLE``) and the other RPCs are served.  The consumer
    group ``basket`` reads the catalog's stream (``ProductPriceChanged``,
    ``ProductArchived`` -> flags on the lines, once per event).  Raises ``OSError`` when a
    certificate file is missing and ``ValueError`` when no auth or catalog endpoint is
    configured.
    """
    credentials = server_credentials(mesh.cert_dir, IDENTITY)
    stack = AsyncExitStack()
    with closed_on_failure(stack):
        server = _server(settings, mesh, stack, credentials, verifier, catalog)
    return server


def _catalog(
    settings: BasketSettings,
    mesh: MeshSettings,
    stack: AsyncExitStack,
    informational: dict[str, Probe],
) -> Catalog:
    """``GrpcCatalog`` on a ``CatalogInternalService`` stub over mTLS, its channel's health
    added to ``informational``; ``ValueError`` when ``mesh.endpoints`` has no catalog."""
    target = mesh.endpoints.get(PEER)
    if not target:
        raise ValueError(f"AGORA_ENDPOINTS has no {PEER!r} target (needed by AddBasketItem)")
    peer = client(
        stack, mesh.cert_dir, IDENTITY, target, PEER, catalog_pb2_grpc.CatalogInternalServiceStub
    )
    informational[PEER] = health_probe(peer.channel)
    return GrpcCatalog(peer.stub, currency=mesh.currency, timeout=settings.catalog_timeout_seconds)


def _server(
    settings: BasketSettings,
    mesh: MeshSettings,
    stack: AsyncExitStack,
    credentials: grpc.ServerCredentials,
    verifier: TokenVerifier | None,
    catalog: Catalog | None,
) -> GrpcServer:
    informational: dict[str, Probe] = {}
    if verifier is None:
        jwks = auth_token_verifier(stack, mesh, IDENTITY, cache_file=settings.jwks_cache_file)
        informational["jwks"] = jwks.probe
        verifier = jwks
    if catalog is None:
        catalog = _catalog(settings, mesh, stack, informational)
    redis = redis_from_settings(settings)
    stack.push_async_callback(redis.aclose)
    store = RedisBasketStore(
        redis,
        currency=mesh.currency,
        clock=utcnow,
        ttl=timedelta(seconds=settings.basket_ttl_seconds),
    )
    baskets = Baskets(store, catalog)
    consumer = Consumer(
        redis,
        catalog_event_bus(CatalogChanges(store), currency=mesh.currency),
        source=PEER,
        group=IDENTITY,
    )
    return GrpcServer(
        identity=IDENTITY,
        listen=settings.listen,
        registrations=[
            Registration(
                _service("BasketService"),
                BasketServicer(baskets),
                basket_pb2_grpc.add_BasketServiceServicer_to_server,
            ),
            Registration(
                _service("BasketInternalService"),
                BasketInternalServicer(baskets),
                basket_pb2_grpc.add_BasketInternalServiceServicer_to_server,
            ),
        ],
        verifier=verifier,
        credentials=credentials,
        probes={"redis": redis_probe(redis)},
        informational_probes=informational,
        health_interval=settings.health_interval_seconds,
        grace=settings.grace_seconds,
        drain=settings.drain_seconds,
        cleanups=[stack.aclose],
        background=[consumer.run],
    )
