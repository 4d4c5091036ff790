"""Access tokens: claims, JWKS shape, verification, and key rotation (publish first,
sign after the activation delay)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import jwt
import pytest

from pkg.errors import Unauthenticated
from pkg.server import JwksTokenVerifier, decode_access_token
from services.auth.config import JWKS_CACHE_SECONDS
from services.auth.service import AccessTokens, signer_at
from services.auth.tests.fakes import FakeSigningKeys
from services.auth.tests.unit.conftest import ACTIVATION_DELAY, AUDIENCE, ISSUER, World


async def test_token_carries_the_agreed_header_and_claims(world: World) -> None:
    token = await world.access.issue("0b7e-uuid", ("Customer", "provider"))
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "ES256"
    assert header["kid"] == world.keys.keys[-1].kid
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE
    assert claims["sub"] == "0b7e-uuid"
    assert claims["roles"] == ["customer", "provider"]
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]


async def test_jwks_holds_public_keys_only(world: World) -> None:
    world.keys.rotate()
    document = await world.access.jwks()
    assert [k["kid"] for k in document["keys"]] == ["kid-2", "kid-1"]
    for key in document["keys"]:
        assert set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
        assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("EC", "P-256", "sig", "ES256")


async def test_tokens_verify_with_the_shared_decoder_and_a_jwks_verifier(world: World) -> None:
    token = await world.access.issue("user-1", ("customer",))
    public = world.keys.keys[-1].private_key.public_key()
    assert decode_access_token(token, public, issuer=ISSUER, audience=AUDIENCE).subject == "user-1"

    async def fetch() -> dict[str, object]:
        document: dict[str, object] = json.loads(json.dumps(await world.access.jwks()))
        return document

    verifier = JwksTokenVerifier(fetch, issuer=ISSUER, audience=AUDIENCE)
    assert (await verifier.verify(token)).roles == {"customer"}


async def test_key_rotation_keeps_earlier_tokens_valid(world: World) -> None:
    before = await world.access.issue("user-1", ("customer",))
    world.keys.rotate(at=time.time() - ACTIVATION_DELAY - 1)
    after = await world.access.issue("user-1", ("customer",))
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    assert (await world.access.verify(before)).subject == "user-1"
    assert (await world.access.verify(after)).subject == "user-1"


async def test_a_token_for_another_audience_is_rejected(world: World) -> None:
    other = AccessTokens(world.keys, issuer=ISSUER, audience="someone-else", ttl_seconds=900)
    token = await other.issue("user-1", ())
    with pytest.raises(Unauthenticated) as caught:
        await world.access.verify(token)
    assert caught.value.reason == "TOKEN_INVALID"


async def test_a_tampered_token_is_rejected(world: World) -> None:
    token = await world.access.issue("user-1", ("customer",))
    header, payload, signature = token.split(".")
    forged_claims = jwt.decode(token, options={"verify_signature": False}) | {"roles": ["admin"]}
    forged_payload = jwt.utils.base64url_encode(json.dumps(forged_claims).encode()).decode()
    with pytest.raises(Unauthenticated):
        await world.access.verify(f"{header}.{forged_payload}.{signature}")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(Unauthenticated):
        await world.access.verify(f"{header}.{payload}.{flipped}")


async def test_an_expired_token_is_rejected(world: World) -> None:
    old = AccessTokens(
        world.keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=900,
        clock=lambda: datetime.fromtimestamp(1_000_000, UTC),
    )
    with pytest.raises(Unauthenticated) as caught:
        await world.access.verify(await old.issue("user-1", ()))
    assert caught.value.reason == "TOKEN_EXPIRED"


async def test_a_token_signed_by_an_unknown_key_is_rejected(world: World) -> None:
    stranger = AccessTokens(FakeSigningKeys(), issuer=ISSUER, audience=AUDIENCE, ttl_seconds=900)
    with pytest.raises(Unauthenticated):
        await world.access.verify(await stranger.issue("user-1", ()))


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_a_new_key_is_published_at_once_but_signs_only_after_the_activation_delay() -> None:
    keys = FakeSigningKeys()
    now = [10_000.0]
    access = AccessTokens(
        keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=900,
        activation_delay_seconds=ACTIVATION_DELAY,
        clock=lambda: datetime.fromtimestamp(now[0], UTC),
    )
    added = keys.rotate(at=now[0])

    assert [k["kid"] for k in (await access.jwks())["keys"]] == [added.kid, "kid-1"]
    assert _kid(await access.issue("user-1", ())) == "kid-1"
    now[0] += ACTIVATION_DELAY - 1
    assert _kid(await access.issue("user-1", ())) == "kid-1"
    now[0] += 1
    assert _kid(await access.issue("user-1", ())) == added.kid


async def test_a_verifier_that_cached_the_jwks_right_after_a_rotation_knows_every_signer() -> None:
    keys = FakeSigningKeys()
    now = [10_000.0]
    access = AccessTokens(
        keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=900,
        activation_delay_seconds=ACTIVATION_DELAY,
        clock=lambda: datetime.fromtimestamp(now[0], UTC),
    )
    cached = {k["kid"] for k in (await access.jwks())["keys"]}
    keys.rotate(at=now[0])
    for elapsed in (0.0, JWKS_CACHE_SECONDS / 2, JWKS_CACHE_SECONDS):
        now[0] = 10_000.0 + elapsed
        assert _kid(await access.issue("user-1", ())) in cached


def test_the_signer_is_the_newest_key_out_of_its_delay_else_the_oldest() -> None:
    keys = FakeSigningKeys()
    second, third = keys.rotate(at=1000.0), keys.rotate(at=2000.0)
    by_kid = {k.kid: k for k in keys.keys}
    assert signer_at(by_kid, 2500.0, 600).kid == second.kid
    assert signer_at(by_kid, 2600.0, 600).kid == third.kid
    assert signer_at({third.kid: third}, 2000.0, 600).kid == third.kid
    assert signer_at({second.kid: second, third.kid: third}, 1100.0, 600).kid == second.kid
    with pytest.raises(ValueError, match="no signing key"):
        signer_at({}, 0.0, 600)
