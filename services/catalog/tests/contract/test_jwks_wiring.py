"""The composition root's own token verifier: auth's JWKS fetched over mTLS as
``catalog``, kept in ``jwks_cache_file`` so tokens still verify after a restart while
auth is down."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import StandInUsers, TokenMint, serving, serving_jwks
from services.catalog.app import build
from services.catalog.tests.contract.conftest import bearer, server_settings

pytestmark = pytest.mark.integration


async def _list(target: str, cert_dir: Path, token: str) -> catalog_pb2.ListProductsResponse:
    """ListProducts as the edge forwards it with ``token`` as the bearer, filtered by
    ``state``: only a token that verifies (an admin's) may name it, an unverified one is
    an anonymous call, whose filter is INVALID_ARGUMENT."""
    async with secure_channel(cert_dir, "edge", target, "catalog") as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        response: catalog_pb2.ListProductsResponse = await stub.ListProducts(
            catalog_pb2.ListProductsRequest(page_size=1, filter="state = STATE_DRAFT"),
            metadata=bearer(token),
        )
        return response


async def test_tokens_are_checked_against_auths_jwks_kept_across_a_restart(
    migrated_database: str,
    redis_url: str,
    cert_dir: Path,
    token_mint: TokenMint,
    users: tuple[str, StandInUsers],
    tmp_path: Path,
) -> None:
    cache = tmp_path / "catalog" / "jwks.json"
    settings = server_settings(migrated_database, redis_url, jwks_cache_file=str(cache))
    async with serving_jwks(cert_dir, token_mint) as (auth_target, auth):
        mesh = MeshSettings.model_validate(
            {"cert_dir": cert_dir, "endpoints": {"auth": auth_target, "user": users[0]}}
        )
        async with serving(build(settings, mesh)) as target:
            await _list(target, cert_dir, token_mint.token(roles=["admin"]))
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _list(target, cert_dir, TokenMint().token(roles=["admin"]))
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert auth.callers and set(auth.callers) == {"catalog"}
        assert cache.is_file()

        auth.up = False  # a restart while auth is down: the keys come from the cache file
        async with serving(build(settings, mesh)) as target:
            await _list(target, cert_dir, token_mint.token(roles=["admin"]))
