"""Composition root of the catalog service: builds the server and everything it uses.

``build`` wires settings -> engine (pool), Redis -> queries, units of work, token
verifier, the user service's client -> use cases -> servicers -> ``GrpcServer``, with the
outbox relay
(``pkg.events.Relay``) as the server's background loop.  Every resource is opened
into one ``AsyncExitStack`` that the server closes on stop, and that is closed at once
when ``build`` fails half-way.
Nothing here runs at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import timedelta

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agora.catalog.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    offerings_pb2,
    offerings_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
)
from agora.user.v1 import user_pb2_grpc
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
from pkg.mtls import client, server_credentials
from pkg.redis import redis_from_settings, redis_probe
from pkg.resources import closed_on_failure
from pkg.server import GrpcServer, Probe, Registration, TokenVerifier, health_probe
from pkg.sql_uow import SqlUnitOfWork
from services.catalog.adapters.accounts import PEER, GrpcAccounts
from services.catalog.adapters.offerings import SqlOfferingQueries, SqlOfferingRepositories
from services.catalog.adapters.repository import SqlCatalogQueries, SqlCatalogRepositories
from services.catalog.adapters.stock import SqlReservationQueries, SqlStockRepositories
from services.catalog.config import CatalogSettings
from services.catalog.entrypoints.grpc import CatalogInternalServicer, CatalogServicer
from services.catalog.entrypoints.grpc.mappers import event_to_message
from services.catalog.entrypoints.grpc.offerings import OfferingServicer
from services.catalog.entrypoints.grpc.stock import StockServicer
from services.catalog.service import CatalogUnitOfWork, Products
from services.catalog.service.offering_ports import Accounts, OfferingUnitOfWork
from services.catalog.service.offerings import Offerings
from services.catalog.service.stock import Stock, sweep
from services.catalog.service.stock_ports import StockUnitOfWork

IDENTITY = "catalog"


def _service(name: str) -> str:
    return str(catalog_pb2.DESCRIPTOR.services_by_name[name].full_name)


def units_of_work(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], CatalogUnitOfWork]:
    """A factory of the catalog service's units of work on ``sessions`` (one per use
    case call: ``SqlUnitOfWork`` is not reentrant), mapping events with
    ``event_to_message``."""

    def unit() -> CatalogUnitOfWork:
        return SqlUnitOfWork(
            sessions, source=IDENTITY, mapper=event_to_message, repositories=SqlCatalogRepositories
        )

    return unit


def offering_units(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], OfferingUnitOfWork]:
    """A factory of the offering use cases' units of work on ``sessions`` (offerings
    record no events yet; the mapper is the service's one all the same)."""

    def unit() -> OfferingUnitOfWork:
        return SqlUnitOfWork(
            sessions, source=IDENTITY, mapper=event_to_message, repositories=SqlOfferingRepositories
        )

    return unit


def stock_units(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], StockUnitOfWork]:
    """A factory of the stock use cases' units of work on ``sessions`` (reservation
    events are mapped by ``event_to_message`` too)."""

    def unit() -> StockUnitOfWork:
        return SqlUnitOfWork(
            sessions, source=IDENTITY, mapper=event_to_message, repositories=SqlStockRepositories
        )

    return unit


def build(
    settings: CatalogSettings,
    mesh: MeshSettings,
    *,
    verifier: TokenVerifier | None = None,
    accounts: Accounts | None = None,
) -> GrpcServer:
    """The catalog service's server, not yet started; call inside a running event loop.

    Serves ``agora.catalog.v1.CatalogService``, ``CatalogInternalService`` and
    ``OfferingService`` (offerings.proto) and ``StockService`` (stock.proto, for the
    ``order`` identity) with
    mTLS as ``catalog`` from ``mesh.cert_dir``.  Access tokens are checked against
    auth's JWKS, fetched over mTLS from ``mesh.endpoints["auth"]`` (``pkg.jwks``), unless
    ``verifier`` is given (tests); the last good keys are kept in
    ``settings.jwks_cache_file`` when set.  The probe ``jwks`` (keys held; it fetches them
    when due) is published as the health name ``dependency.jwks`` without deciding the
    overall health.  CreateProviderOffering and DeleteProviderOffering ask the user service
    at ``mesh.endpoints["user"]`` (``UserService`` over mTLS as ``catalog``, deadline
    ``settings.user_timeout_seconds``) whether the provider's account is active, unless
    ``accounts`` is given (tests); its gRPC health is published as ``dependency.user``
    only: while it is down, those two are UNAVAILABLE (``USER_UNAVAILABLE``) and the other
    RPCs are served.  Prices are in ``mesh.currency`` (``AGORA_CURRENCY``): others are
    refused.  Health follows the database (``SELECT 1``); database failures are
    ``Unavailable`` within the timeouts of ``settings`` (``pkg.db``).  Every write commits
    its events (ProductCreated, ProductPriceChanged, ProductArchived, StockReserved,
    StockCommitted, StockReleased) to the outbox; the
    relay publishes them to ``agora:events:{catalog}`` in ``settings.redis_url``; Redis's
    health is published as ``dependency.redis`` only: while it is down, requests are served
    and events wait in the outbox.  Reservations are held
    ``settings.reservation_ttl_seconds``; every server runs a sweeper (``service.stock.sweep``,
    every ``settings.reservation_sweep_interval_seconds``) that expires them beside the
    sweepers of the other workers.
    Raises ``OSError`` when a certificate file is missing and ``ValueError`` when no auth
    or user endpoint is configured.
    """
    credentials = server_credentials(mesh.cert_dir, IDENTITY)
    stack = AsyncExitStack()
    with closed_on_failure(stack):
        server = _server(settings, mesh, stack, credentials, verifier, accounts)
    return server


def _accounts(
    settings: CatalogSettings,
    mesh: MeshSettings,
    stack: AsyncExitStack,
    informational: dict[str, Probe],
) -> Accounts:
    """``GrpcAccounts`` on a ``UserService`` stub over mTLS, its channel's health added to
    ``informational``; ``ValueError`` when ``mesh.endpoints`` has no user target."""
    target = mesh.endpoints.get(PEER)
    if not target:
        raise ValueError(
            f"AGORA_ENDPOINTS has no {PEER!r} target "
            "(needed by CreateProviderOffering and DeleteProviderOffering)"
        )
    user = client(stack, mesh.cert_dir, IDENTITY, target, PEER, user_pb2_grpc.UserServiceStub)
    informational[PEER] = health_probe(user.channel)
    return GrpcAccounts(user.stub, timeout=settings.user_timeout_seconds)


def _server(
    settings: CatalogSettings,
    mesh: MeshSettings,
    stack: AsyncExitStack,
    credentials: grpc.ServerCredentials,
    verifier: TokenVerifier | None,
    accounts: Accounts | None,
) -> GrpcServer:
    informational: dict[str, Probe] = {}
    if verifier is None:
        jwks = auth_token_verifier(stack, mesh, IDENTITY, cache_file=settings.jwks_cache_file)
        informational["jwks"] = jwks.probe
        verifier = jwks
    if accounts is None:
        accounts = _accounts(settings, mesh, stack, informational)
    engine = engine_from_settings(settings)
    stack.push_async_callback(engine.dispose)
    redis = redis_from_settings(settings)
    stack.push_async_callback(redis.aclose)
    informational["redis"] = redis_probe(redis)
    reads = reader_from_settings(settings)
    stack.push_async_callback(reads.close)
    sessions = session_factory(engine, timeout=settings.database_timeout_seconds)
    queries = SqlCatalogQueries(reads, currency=mesh.currency)
    products = Products(
        queries,
        units_of_work(sessions),
        clock=utcnow,
        key_ttl=timedelta(seconds=settings.idempotency_key_ttl_seconds),
    )
    offerings = Offerings(
        SqlOfferingQueries(sessions),
        offering_units(sessions),
        accounts,
        clock=utcnow,
        key_ttl=timedelta(seconds=settings.idempotency_key_ttl_seconds),
    )
    stock = Stock(
        SqlReservationQueries(sessions),
        stock_units(sessions),
        clock=utcnow,
        ttl=timedelta(seconds=settings.reservation_ttl_seconds),
    )

    async def sweeper() -> None:
        await sweep(stock, interval=settings.reservation_sweep_interval_seconds)

    relay = Relay(sessions, redis, source=IDENTITY, listen_url=settings.database_url)
    return GrpcServer(
        identity=IDENTITY,
        listen=settings.listen,
        registrations=[
            Registration(
                _service("CatalogService"),
                CatalogServicer(products, currency=mesh.currency),
                catalog_pb2_grpc.add_CatalogServiceServicer_to_server,
            ),
            Registration(
                _service("CatalogInternalService"),
                CatalogInternalServicer(products),
                catalog_pb2_grpc.add_CatalogInternalServiceServicer_to_server,
            ),
            Registration(
                offerings_pb2.DESCRIPTOR.services_by_name["OfferingService"].full_name,
                OfferingServicer(offerings),
                offerings_pb2_grpc.add_OfferingServiceServicer_to_server,
            ),
            Registration(
                stock_pb2.DESCRIPTOR.services_by_name["StockService"].full_name,
                StockServicer(stock),
                stock_pb2_grpc.add_StockServiceServicer_to_server,
            ),
        ],
        verifier=verifier,
        credentials=credentials,
        probes={"database": database_probe(engine)},
        informational_probes=informational,
        health_interval=settings.health_interval_seconds,
        grace=settings.grace_seconds,
        drain=settings.drain_seconds,
        cleanups=[stack.aclose],
        background=[relay.run, sweeper],
    )
