"""The catalog service built by its composition root, served in-process over mTLS.

Access tokens come from the test kit's ``token_mint``; certificates from ``cert_dir``;
the ``catalog`` fixture is a stub on a channel presenting the edge's certificate.  The
user service it asks about providers' accounts is the test kit's stand-in (``users``),
over mTLS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agora.catalog.v1 import catalog_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import StandInUsers, TokenMint, serving, serving_users
from services.catalog.app import build
from services.catalog.config import CatalogSettings


def server_settings(database_url: str, redis_url: str, **overrides: Any) -> CatalogSettings:
    """Settings for a server on a free port of ``database_url`` and ``redis_url`` that
    stops at once.  Its reservation sweeper runs once at start and then hourly, so a
    session's server never expires the reservations the integration tests' own sweepers
    are counting on the same database."""
    return CatalogSettings.model_validate(
        {
            "listen": "127.0.0.1:0",
            "database_url": database_url,
            "redis_url": redis_url,
            "grace_seconds": 0.5,
            "drain_seconds": 0,
            "health_interval_seconds": 0.5,
            "reservation_sweep_interval_seconds": 3600,
            **overrides,
        }
    )


@pytest.fixture(scope="session")
async def users(cert_dir: Path, token_mint: TokenMint) -> AsyncIterator[tuple[str, StandInUsers]]:
    """The stand-in user service (``pkg.testing.serving_users``): its target and servicer
    (``disabled`` subjects, ``up``, ``calls``).  Shared by the session: a test that changes
    ``up`` or ``disabled`` puts it back."""
    async with serving_users(cert_dir, token_mint) as served:
        yield served


@pytest.fixture(scope="session")
async def catalog_target(
    migrated_database: str,
    redis_url: str,
    cert_dir: Path,
    token_mint: TokenMint,
    users: tuple[str, StandInUsers],
) -> AsyncIterator[str]:
    """``127.0.0.1:<port>`` of a running catalog service on the migrated test database,
    its relay on ``redis_url``, trading in EUR, asking ``users`` about accounts."""
    settings = server_settings(migrated_database, redis_url)
    mesh = MeshSettings.model_validate(
        {"cert_dir": cert_dir, "currency": "EUR", "endpoints": {"user": users[0]}}
    )
    server = build(settings, mesh, verifier=token_mint.verifier)
    async with serving(server) as target:
        yield target


@pytest.fixture
async def catalog(
    catalog_target: str, cert_dir: Path
) -> AsyncIterator[catalog_pb2_grpc.CatalogServiceStub]:
    """CatalogService as the edge forwards it."""
    async with secure_channel(cert_dir, "edge", catalog_target, "catalog") as channel:
        yield catalog_pb2_grpc.CatalogServiceStub(channel)


@pytest.fixture
async def catalog_internal(
    catalog_target: str, cert_dir: Path
) -> AsyncIterator[catalog_pb2_grpc.CatalogInternalServiceStub]:
    """CatalogInternalService as an allowed caller (the ``basket`` identity) calls it."""
    async with secure_channel(cert_dir, "basket", catalog_target, "catalog") as channel:
        yield catalog_pb2_grpc.CatalogInternalServiceStub(channel)


def bearer(token: str) -> tuple[tuple[str, str]]:
    """Call metadata carrying ``token``."""
    return (("authorization", f"Bearer {token}"),)
