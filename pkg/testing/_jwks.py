"""A stand-in auth service that serves only its JWKS, for tests of a composition root's
token verifier (``pkg.jwks.auth_token_verifier``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from google.api import httpbody_pb2

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg.mtls import server_credentials
from pkg.pki import caller_identity
from pkg.testing._kit import TokenMint


class JwksAuth(auth_pb2_grpc.AuthServiceServicer):
    """``AuthService.GetJwks`` answering ``mint``'s JWKS (RFC 7517) as JSON.

    ``callers`` lists the SPIFFE identity (``user``, ...) of every call; while ``up`` is
    false it answers UNAVAILABLE, as an auth service that is down.  Other RPCs are
    UNIMPLEMENTED.
    """

    def __init__(self, mint: TokenMint) -> None:
        self.mint = mint
        self.up = True
        self.callers: list[str | None] = []

    async def GetJwks(
        self, request: auth_pb2.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        self.callers.append(caller_identity(context.auth_context()))
        if not self.up:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "auth is down")
        return httpbody_pb2.HttpBody(
            content_type="application/json", data=json.dumps(self.mint.jwks()).encode()
        )


@asynccontextmanager
async def serving_jwks(cert_dir: Path, mint: TokenMint) -> AsyncIterator[tuple[str, JwksAuth]]:
    """Run a ``JwksAuth`` over mTLS as workload ``auth`` (certificates from ``cert_dir``).

    Yields its target (``ipv4:127.0.0.1:<port>``, for ``AGORA_ENDPOINTS["auth"]``) and the
    servicer; the server stops, without grace, on exit.  Raises ``OSError`` when auth's
    certificate is missing.
    """
    servicer = JwksAuth(mint)
    server = grpc.aio.server()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)
    port = server.add_secure_port("127.0.0.1:0", server_credentials(cert_dir, "auth"))
    await server.start()
    try:
        yield f"ipv4:127.0.0.1:{port}", servicer
    finally:
        await server.stop(None)
