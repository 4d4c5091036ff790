"""The auth service as the source of token keys, for every other service's composition root.

``jwks_fetcher`` calls ``AuthService.GetJwks`` through the generated stub;
``auth_token_verifier`` builds the mTLS client to auth and the ``JwksTokenVerifier`` on it,
with the last good key set kept on disk when a cache file is given, so a service restarted
while auth is down still verifies tokens (docs/adr/0013-dependency-failures-and-drain.md).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import client
from pkg.principal import JwksTokenVerifier

AUTH = "auth"
"""The service that signs access tokens and serves their JWKS (its name in endpoints)."""


def jwks_fetcher(
    stub: auth_pb2_grpc.AuthServiceStub, *, timeout: float = 2.0
) -> Callable[[], Awaitable[Mapping[str, Any]]]:
    """A coroutine function returning auth's JSON Web Key Set (RFC 7517) as a dict.

    It calls ``AuthService.GetJwks`` on ``stub`` (``pkg.mtls.client``) with a deadline of
    ``timeout`` seconds and parses the ``google.api.HttpBody``'s JSON; raises
    ``grpc.aio.AioRpcError`` when auth does not answer and ``ValueError`` when the body is
    not a JSON object.
    """

    async def fetch() -> Mapping[str, Any]:
        body = await stub.GetJwks(auth_pb2.GetJwksRequest(), timeout=timeout)
        document = json.loads(body.data)
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        return document

    return fetch


def auth_token_verifier(
    stack: AsyncExitStack,
    mesh: MeshSettings,
    identity: str,
    *,
    cache_file: Path | str | None = None,
) -> JwksTokenVerifier:
    """A ``JwksTokenVerifier`` on auth's JWKS, fetched over mTLS as workload ``identity``.

    The channel goes to ``mesh.endpoints["auth"]`` with ``identity``'s certificate from
    ``mesh.cert_dir`` (``pkg.mtls.client``, closed by ``stack``); tokens must carry
    ``mesh.jwt_issuer`` and ``mesh.jwt_audience``.  ``cache_file`` (``None`` or ``""``:
    none) keeps the last good key set across restarts; its folder is created on the first
    write.  Nothing is fetched here: the verifier fetches on its first use or ``probe``,
    which the composition root registers as the informational probe ``jwks``.  Raises
    ``ValueError`` when ``mesh.endpoints`` has no ``auth`` target or key and certificate
    differ, and ``OSError`` when a certificate file is missing.
    """
    target = mesh.endpoints.get(AUTH)
    if not target:
        raise ValueError("AGORA_ENDPOINTS has no 'auth' target (needed for its JWKS)")
    auth = client(stack, mesh.cert_dir, identity, target, AUTH, auth_pb2_grpc.AuthServiceStub)
    return JwksTokenVerifier(
        jwks_fetcher(auth.stub),
        issuer=mesh.jwt_issuer,
        audience=mesh.jwt_audience,
        cache_file=Path(cache_file) if cache_file else None,
    )
