"""``pkg.jwks``: auth's JWKS through the generated stub, and the verifier a composition root
builds on it (mTLS as the service, keys kept in a cache file across restarts)."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import cast

import pytest
from google.api import httpbody_pb2

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg import errors
from pkg.config import MeshSettings
from pkg.jwks import auth_token_verifier, jwks_fetcher
from pkg.testing import TokenMint, serving_jwks


class _Stub:
    """An ``AuthServiceStub`` answering GetJwks with ``body``; records each deadline."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.timeouts: list[float] = []

    async def GetJwks(
        self,
        request: auth_pb2.GetJwksRequest,
        *,  # the stub's signature
        timeout: float,  # noqa: ASYNC109
    ) -> httpbody_pb2.HttpBody:
        self.timeouts.append(timeout)
        return httpbody_pb2.HttpBody(content_type="application/json", data=self.body)


async def test_the_fetcher_parses_the_jwks_within_its_deadline(token_mint: TokenMint) -> None:
    stub = _Stub(json.dumps(token_mint.jwks()).encode())
    fetch = jwks_fetcher(cast(auth_pb2_grpc.AuthServiceStub, stub), timeout=0.5)
    assert await fetch() == token_mint.jwks()
    assert stub.timeouts == [0.5]


async def test_the_fetcher_refuses_a_body_that_is_not_a_json_object() -> None:
    fetch = jwks_fetcher(cast(auth_pb2_grpc.AuthServiceStub, _Stub(b"[]")))
    with pytest.raises(ValueError, match="not a JSON object"):
        await fetch()


def _mesh(cert_dir: Path, auth_target: str) -> MeshSettings:
    return MeshSettings.model_validate({"cert_dir": cert_dir, "endpoints": {"auth": auth_target}})


async def test_the_verifier_fetches_over_mtls_as_the_service_and_keeps_the_keys(
    cert_dir: Path, token_mint: TokenMint, tmp_path: Path
) -> None:
    cache = tmp_path / "user" / "jwks.json"
    async with serving_jwks(cert_dir, token_mint) as (target, auth), AsyncExitStack() as stack:
        verifier = auth_token_verifier(stack, _mesh(cert_dir, target), "user", cache_file=cache)
        assert not verifier.has_keys and auth.callers == []  # nothing fetched while building
        assert (await verifier.verify(token_mint.token("ada"))).subject == "ada"
        assert auth.callers == ["user"]
        assert json.loads(cache.read_text()) == token_mint.jwks()

        auth.up = False
        restarted = auth_token_verifier(
            stack, _mesh(cert_dir, target), "user", cache_file=str(cache)
        )
        assert (await restarted.verify(token_mint.token("bob"))).subject == "bob"
        assert await restarted.probe() is True
        assert not auth_token_verifier(
            stack, _mesh(cert_dir, target), "user", cache_file=""
        ).has_keys  # "": no cache file


async def test_the_verifier_refuses_another_issuers_tokens(
    cert_dir: Path, token_mint: TokenMint
) -> None:
    async with serving_jwks(cert_dir, token_mint) as (target, _), AsyncExitStack() as stack:
        mesh = MeshSettings.model_validate(
            {
                "cert_dir": cert_dir,
                "endpoints": {"auth": target},
                "jwt_issuer": "https://elsewhere.example",
            }
        )
        verifier = auth_token_verifier(stack, mesh, "user")
        with pytest.raises(errors.Unauthenticated) as caught:
            await verifier.verify(token_mint.token("ada"))
        assert caught.value.reason == "TOKEN_INVALID"


async def test_no_auth_endpoint_is_a_value_error(cert_dir: Path) -> None:
    mesh = MeshSettings.model_validate({"cert_dir": cert_dir, "endpoints": {}})
    async with AsyncExitStack() as stack:
        with pytest.raises(ValueError, match="no 'auth' target"):
            auth_token_verifier(stack, mesh, "user")
