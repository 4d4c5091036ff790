"""A customer's life over HTTP/JSON through the edge: register, profile, tokens, logout."""

from __future__ import annotations

import httpx
import pytest

from ._api import PASSWORD, WRONG_PASSWORD, bearer, json_error, login, random_email

pytestmark = pytest.mark.e2e


def test_register_profile_refresh_reuse_and_logout(any_http: httpx.Client, protocol: str) -> None:
    http = any_http
    email = random_email()

    registered = http.post(
        "/v1/auth:register",
        json={"email": email, "password": PASSWORD, "displayName": "Ada Lovelace"},
    )
    assert registered.status_code == 200, registered.text
    assert registered.http_version == protocol
    assert registered.headers["content-type"].startswith("application/json")
    body = registered.json()
    user, tokens = body["user"], body["tokens"]
    assert user["name"].startswith("users/") and user["name"] != "users/me"
    assert user["email"] == email
    assert user["displayName"] == "Ada Lovelace"
    assert "password" not in registered.text.lower()
    assert tokens["tokenType"] == "Bearer"
    assert int(tokens["expiresIn"]) > 0
    assert tokens["accessToken"].count(".") == 2
    assert len(tokens["refreshToken"]) >= 32

    pair = login(http, email)
    assert pair["tokenType"] == "Bearer"
    assert pair["refreshToken"] != tokens["refreshToken"]

    me = http.get("/v1/users/me", headers=bearer(pair["accessToken"]))
    assert me.status_code == 200, me.text
    profile = me.json()
    assert profile["name"] == user["name"]
    assert profile["email"] == email
    assert profile["displayName"] == "Ada Lovelace"
    by_name = http.get(f"/v1/{user['name']}", headers=bearer(pair["accessToken"]))
    assert by_name.status_code == 200, by_name.text
    assert by_name.json()["email"] == email

    updated = http.patch(
        "/v1/users/me",
        params={"updateMask": "displayName"},
        json={"displayName": "Countess of Lovelace"},
        headers=bearer(pair["accessToken"]),
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["displayName"] == "Countess of Lovelace"
    assert updated.json()["etag"] and updated.json()["etag"] != profile["etag"]
    again = http.get("/v1/users/me", headers=bearer(pair["accessToken"]))
    assert again.json()["displayName"] == "Countess of Lovelace"

    refreshed = http.post("/v1/auth:refresh", json={"refreshToken": pair["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    new_pair = refreshed.json()
    assert new_pair["refreshToken"] != pair["refreshToken"]
    assert new_pair["accessToken"] != pair["accessToken"]
    assert http.get("/v1/users/me", headers=bearer(new_pair["accessToken"])).status_code == 200

    reused = http.post("/v1/auth:refresh", json={"refreshToken": pair["refreshToken"]})
    json_error(reused, 401)
    revoked = http.post("/v1/auth:refresh", json={"refreshToken": new_pair["refreshToken"]})
    json_error(revoked, 401)

    # The registration's own family is untouched by the reuse above, until logout.
    logout = http.post("/v1/auth:logout", json={"refreshToken": tokens["refreshToken"]})
    assert logout.status_code == 200, logout.text
    assert logout.json() == {}
    json_error(http.post("/v1/auth:refresh", json={"refreshToken": tokens["refreshToken"]}), 401)


def test_logout_all_revokes_every_family(http: httpx.Client, customer: dict) -> None:
    first = customer["tokens"]
    second = login(http, customer["email"])

    unauthenticated = http.post("/v1/auth:logoutAll", json={})
    json_error(unauthenticated, 401)

    done = http.post("/v1/auth:logoutAll", json={}, headers=bearer(second["accessToken"]))
    assert done.status_code == 200, done.text
    for pair in (first, second):
        json_error(http.post("/v1/auth:refresh", json={"refreshToken": pair["refreshToken"]}), 401)
    assert login(http, customer["email"])["refreshToken"]


def test_profile_needs_a_token(http: httpx.Client) -> None:
    json_error(http.get("/v1/users/me"), 401)
    json_error(http.get("/v1/users/me", headers={"Authorization": "Bearer not-a-jwt"}), 401)


def test_login_with_a_wrong_password_is_refused(http: httpx.Client, customer: dict) -> None:
    wrong = http.post(
        "/v1/auth:login", json={"email": customer["email"], "password": WRONG_PASSWORD}
    )
    json_error(wrong, 401)
    unknown = http.post("/v1/auth:login", json={"email": random_email(), "password": PASSWORD})
    json_error(unknown, 401)
    assert wrong.json().get("message") == unknown.json().get("message"), (
        "the answers tell a registered address from an unknown one"
    )
