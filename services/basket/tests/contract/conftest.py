"""The basket service built by its composition root, served in-process over mTLS.

Access tokens come from the test kit's ``token_mint``; certificates from ``basket_certs``
(every workload's, and one for ``order``, the internal service's caller, not yet a
service of the mesh).  The catalog it asks is the test kit's stand-in (``catalog``), over
mTLS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agora.basket.v1 import basket_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.pki import DevelopmentCA, ensure_mesh_certificates
from pkg.runtime import WORKLOADS
from pkg.testing import StandInCatalog, TokenMint, serving, serving_catalog
from services.basket.app import build
from services.basket.config import BasketSettings


def server_settings(redis_url: str, **overrides: Any) -> BasketSettings:
    """Settings for a server on a free port of ``redis_url`` that stops at once."""
    return BasketSettings.model_validate(
        {
            "listen": "127.0.0.1:0",
            "redis_url": redis_url,
            "grace_seconds": 0.5,
            "drain_seconds": 0,
            "health_interval_seconds": 0.5,
            **overrides,
        }
    )


@pytest.fixture(scope="session")
def basket_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate directory with leaves for every workload and ``order``."""
    root = tmp_path_factory.mktemp("basket-pki")
    certs = root / "certs"
    ensure_mesh_certificates(DevelopmentCA(root / "pki"), certs, (*WORKLOADS, "order"))
    return certs


@pytest.fixture(scope="session")
async def catalog(
    basket_certs: Path, token_mint: TokenMint
) -> AsyncIterator[tuple[str, StandInCatalog]]:
    """The stand-in catalog (``pkg.testing.serving_catalog``): its target and servicer
    (``products``, ``up``, ``calls``).  A test that changes ``up`` puts it back."""
    async with serving_catalog(basket_certs, token_mint) as served:
        yield served


@pytest.fixture(scope="session")
async def basket_target(
    redis_url: str, basket_certs: Path, token_mint: TokenMint, catalog: tuple[str, StandInCatalog]
) -> AsyncIterator[str]:
    """``127.0.0.1:<port>`` of a running basket service on ``redis_url``, asking
    ``catalog`` about products."""
    mesh = MeshSettings.model_validate(
        {"cert_dir": basket_certs, "endpoints": {"catalog": catalog[0]}, "currency": "EUR"}
    )
    server = build(server_settings(redis_url), mesh, verifier=token_mint.verifier)
    async with serving(server) as target:
        yield target


@pytest.fixture
async def basket(
    basket_target: str, basket_certs: Path
) -> AsyncIterator[basket_pb2_grpc.BasketServiceStub]:
    """BasketService as the edge forwards it."""
    async with secure_channel(basket_certs, "edge", basket_target, "basket") as channel:
        yield basket_pb2_grpc.BasketServiceStub(channel)


@pytest.fixture
async def basket_internal(
    basket_target: str, basket_certs: Path
) -> AsyncIterator[basket_pb2_grpc.BasketInternalServiceStub]:
    """BasketInternalService as its allowed caller (the ``order`` identity) calls it."""
    async with secure_channel(basket_certs, "order", basket_target, "basket") as channel:
        yield basket_pb2_grpc.BasketInternalServiceStub(channel)


def bearer(token: str) -> tuple[tuple[str, str]]:
    """Call metadata carrying ``token``."""
    return (("authorization", f"Bearer {token}"),)
