"""The composition root's own token verifier: auth's JWKS fetched over mTLS as ``user``,
kept in ``jwks_cache_file`` so tokens still verify after a restart while auth is down."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from agora.user.v1 import user_pb2
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import TokenMint, serving, serving_jwks
from services.user.app import build
from services.user.tests.contract.conftest import (
    bearer,
    cheap_settings,
    internal_stub,
    register,
    subject,
    user_stub,
)

pytestmark = pytest.mark.integration


async def test_tokens_are_checked_against_auths_jwks(
    migrated_database: str, cert_dir: Path, token_mint: TokenMint, tmp_path: Path
) -> None:
    cache = tmp_path / "user" / "jwks.json"
    settings = cheap_settings(migrated_database, jwks_cache_file=str(cache))
    async with serving_jwks(cert_dir, token_mint) as (auth_target, auth):
        mesh = MeshSettings.model_validate(
            {"cert_dir": cert_dir, "endpoints": {"auth": auth_target}}
        )
        async with serving(build(settings, mesh)) as target:
            channel = secure_channel(cert_dir, "auth", target, "user")
            edge = secure_channel(cert_dir, "edge", target, "user")
            try:
                ada = await register(internal_stub(channel))
                public = user_stub(edge)
                me = await public.GetUser(
                    user_pb2.GetUserRequest(name="users/me"),
                    metadata=bearer(token_mint.token(subject(ada))),
                )
                assert me.name == ada.name
                forged = TokenMint()
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await public.GetUser(
                        user_pb2.GetUserRequest(name="users/me"),
                        metadata=bearer(forged.token(subject(ada))),
                    )
                assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
            finally:
                await channel.close()
                await edge.close()
        assert auth.callers and set(auth.callers) == {"user"}
        assert cache.is_file()

        auth.up = False  # a restart while auth is down: the keys come from the cache file
        async with serving(build(settings, mesh)) as target:
            async with secure_channel(cert_dir, "edge", target, "user") as edge:
                me = await user_stub(edge).GetUser(
                    user_pb2.GetUserRequest(name="users/me"),
                    metadata=bearer(token_mint.token(subject(ada))),
                )
        assert me.name == ada.name
