"""The composition root's own token verifier: auth's JWKS fetched over mTLS as ``user``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.api import httpbody_pb2

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from agora.user.v1 import user_pb2
from pkg.config import MeshSettings
from pkg.mtls import secure_channel, server_credentials
from pkg.pki import caller_identity
from pkg.testing import TokenMint, serving
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


class _JwksOnlyAuth(auth_pb2_grpc.AuthServiceServicer):
    """Serves ``token_mint``'s JWKS and records who asked for it."""

    def __init__(self, mint: TokenMint) -> None:
        self.mint = mint
        self.callers: list[str | None] = []

    async def GetJwks(self, request: auth_pb2.GetJwksRequest,
                      context: grpc.aio.ServicerContext) -> httpbody_pb2.HttpBody:
        self.callers.append(caller_identity(context.auth_context()))
        return httpbody_pb2.HttpBody(content_type="application/json",
                                     data=json.dumps(self.mint.jwks()).encode())


@pytest.fixture
async def fake_auth(cert_dir: Path, token_mint: TokenMint
                    ) -> AsyncIterator[tuple[str, _JwksOnlyAuth]]:
    servicer = _JwksOnlyAuth(token_mint)
    server = grpc.aio.server()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(  # type: ignore[no-untyped-call]
        servicer, server)
    port = server.add_secure_port("127.0.0.1:0", server_credentials(cert_dir, "auth"))
    await server.start()
    yield f"ipv4:127.0.0.1:{port}", servicer
    await server.stop(None)


async def test_tokens_are_checked_against_auths_jwks(
        migrated_database: str, cert_dir: Path, token_mint: TokenMint,
        fake_auth: tuple[str, _JwksOnlyAuth]) -> None:
    auth_target, auth = fake_auth
    settings = cheap_settings(migrated_database)
    mesh = MeshSettings.model_validate({"cert_dir": cert_dir,
                                        "endpoints": {"auth": auth_target}})
    async with serving(build(settings, mesh)) as target:
        channel = secure_channel(cert_dir, "auth", target, "user")
        edge = secure_channel(cert_dir, "edge", target, "user")
        try:
            ada = await register(internal_stub(channel))
            public = user_stub(edge)
            me = await public.GetUser(user_pb2.GetUserRequest(name="users/me"),
                                      metadata=bearer(token_mint.token(subject(ada))))
            assert me.name == ada.name
            forged = TokenMint()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await public.GetUser(user_pb2.GetUserRequest(name="users/me"),
                                     metadata=bearer(forged.token(subject(ada))))
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        finally:
            await channel.close()
            await edge.close()
    assert auth.callers and set(auth.callers) == {"user"}
