"""The JWKS (RFC 7517) that verifies access tokens, served by the edge."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ._api import jwt_parts

pytestmark = pytest.mark.e2e


def test_jwks_holds_the_public_ec_key_of_access_tokens(
    any_http: httpx.Client, protocol: str, customer: dict[str, Any]
) -> None:
    response = any_http.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    assert response.http_version == protocol
    assert response.headers["content-type"].startswith("application/json")
    keys = response.json()["keys"]
    assert keys, "empty JWKS"
    for key in keys:
        assert key["kty"] == "EC" and key["crv"] == "P-256", key
        assert key["x"] and key["y"] and key["kid"], key
        assert "d" not in key, "the JWKS publishes a private key"
    header, claims = jwt_parts(customer["tokens"]["accessToken"])
    assert header["alg"] == "ES256"
    assert header["kid"] in {key["kid"] for key in keys}
    assert claims["sub"] == customer["user"]["name"].removeprefix("users/")
    assert claims["aud"] in ("agora", ["agora"])
