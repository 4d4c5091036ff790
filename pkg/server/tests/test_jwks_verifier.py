"""``JwksTokenVerifier`` keeps verifying while auth is down, across restarts with a cache
file, and reports missing keys as UNAVAILABLE, not as a bad token."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pkg import errors
from pkg.server import JwksTokenVerifier
from pkg.testing import TokenMint


class Auth:
    """A JWKS fetcher that can be taken down."""

    def __init__(self, mint: TokenMint) -> None:
        self.mint = mint
        self.up = True
        self.calls = 0

    async def __call__(self) -> Mapping[str, Any]:
        self.calls += 1
        if not self.up:
            raise ConnectionError("auth is down")
        return self.mint.jwks()


def _verifier(auth: Auth, cache_file: Path | None = None) -> JwksTokenVerifier:
    return JwksTokenVerifier(
        auth,
        issuer=auth.mint.issuer,
        audience=auth.mint.audience,
        max_age=0.0,
        min_refetch=0.0,
        cache_file=cache_file,
    )


async def test_no_keys_and_auth_down_is_unavailable(token_mint: TokenMint) -> None:
    auth = Auth(token_mint)
    auth.up = False
    verifier = _verifier(auth)
    with pytest.raises(errors.Unavailable) as caught:
        await verifier.verify(token_mint.token("abc"))
    assert caught.value.reason == "JWKS_UNAVAILABLE"
    assert await verifier.probe() is False


async def test_keys_from_the_cache_file_verify_after_a_restart_while_auth_is_down(
    token_mint: TokenMint, tmp_path: Path
) -> None:
    cache = tmp_path / "user" / "jwks.json"
    auth = Auth(token_mint)
    first = _verifier(auth, cache)
    assert await first.probe() is True
    assert (await first.verify(token_mint.token("abc"))).subject == "abc"
    assert cache.exists()

    auth.up = False
    assert (await first.verify(token_mint.token("abc"))).subject == "abc"
    restarted = _verifier(auth, cache)
    assert restarted.has_keys
    assert (await restarted.verify(token_mint.token("def"))).subject == "def"
    assert await restarted.probe() is True
    assert auth.calls >= 3


async def test_an_unusable_cache_file_is_ignored(token_mint: TokenMint, tmp_path: Path) -> None:
    cache = tmp_path / "jwks.json"
    cache.write_text("{not json")
    auth = Auth(token_mint)
    verifier = _verifier(auth, cache)
    assert not verifier.has_keys
    assert (await verifier.verify(token_mint.token("abc"))).subject == "abc"
