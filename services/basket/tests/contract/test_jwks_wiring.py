"""The composition root's own token verifier: auth's JWKS fetched over mTLS as
``basket``, kept in ``jwks_cache_file`` so tokens still verify after a restart while
auth is down."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from agora.basket.v1 import basket_pb2, basket_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import StandInCatalog, TokenMint, serving, serving_jwks
from services.basket.app import build
from services.basket.tests.contract.conftest import bearer, server_settings

pytestmark = pytest.mark.integration


async def _list(target: str, basket_certs: Path, token: str) -> basket_pb2.Basket:
    """GetBasket as the edge forwards it, with ``token`` as the bearer."""
    async with secure_channel(basket_certs, "edge", target, "basket") as channel:
        stub = basket_pb2_grpc.BasketServiceStub(channel)
        response: basket_pb2.Basket = await stub.GetBasket(
            basket_pb2.GetBasketRequest(name="users/me/basket"), metadata=bearer(token)
        )
        return response


async def test_tokens_are_checked_against_auths_jwks_kept_across_a_restart(
    redis_url: str,
    basket_certs: Path,
    token_mint: TokenMint,
    catalog: tuple[str, StandInCatalog],
    tmp_path: Path,
) -> None:
    cache = tmp_path / "basket" / "jwks.json"
    settings = server_settings(redis_url, jwks_cache_file=str(cache))
    async with serving_jwks(basket_certs, token_mint) as (auth_target, auth):
        mesh = MeshSettings.model_validate(
            {
                "cert_dir": basket_certs,
                "endpoints": {"auth": auth_target, "catalog": catalog[0]},
            }
        )
        async with serving(build(settings, mesh)) as target:
            await _list(target, basket_certs, token_mint.token())
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _list(target, basket_certs, TokenMint().token())
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert auth.callers and set(auth.callers) == {"basket"}
        assert cache.is_file()

        auth.up = False  # a restart while auth is down: the keys come from the cache file
        async with serving(build(settings, mesh)) as target:
            await _list(target, basket_certs, token_mint.token())
