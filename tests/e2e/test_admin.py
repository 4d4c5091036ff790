"""Admin-only RPCs through the edge: ListUsers and its pagination (AIP-158)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ._api import bearer, json_error, register

pytestmark = pytest.mark.e2e


def test_customers_may_not_list_users(http: httpx.Client, customer: dict[str, Any]) -> None:
    denied = http.get("/v1/users", headers=bearer(customer["tokens"]["accessToken"]))
    body = json_error(denied, 403)
    assert body.get("code") == 7, body  # PERMISSION_DENIED
    json_error(http.get("/v1/users"), 401)


def test_admin_lists_users_page_by_page(http: httpx.Client, admin: dict[str, Any]) -> None:
    register(http)
    register(http)
    token = admin["tokens"]["accessToken"]

    first = http.get("/v1/users", params={"pageSize": 1}, headers=bearer(token))
    assert first.status_code == 200, first.text
    page1 = first.json()
    assert len(page1["users"]) == 1
    assert page1.get("nextPageToken"), page1

    second = http.get(
        "/v1/users",
        params={"pageSize": 1, "pageToken": page1["nextPageToken"]},
        headers=bearer(token),
    )
    assert second.status_code == 200, second.text
    page2 = second.json()
    assert len(page2["users"]) == 1
    assert page2["users"][0]["name"] != page1["users"][0]["name"]
    assert page2["users"][0]["createTime"] <= page1["users"][0]["createTime"], "not newest first"

    everyone = http.get("/v1/users", params={"pageSize": 100}, headers=bearer(token))
    assert everyone.status_code == 200, everyone.text
    emails = {u["email"] for u in everyone.json()["users"]}
    assert admin["email"] in emails
    admin_entry = next(u for u in everyone.json()["users"] if u["email"] == admin["email"])
    assert "ROLE_ADMIN" in admin_entry.get("roles", []), admin_entry


def test_admin_sees_any_profile(
    http: httpx.Client, admin: dict[str, Any], customer: dict[str, Any]
) -> None:
    name = customer["user"]["name"]
    got = http.get(f"/v1/{name}", headers=bearer(admin["tokens"]["accessToken"]))
    assert got.status_code == 200, got.text
    assert got.json()["email"] == customer["email"]


def test_bad_page_token_is_a_client_error(http: httpx.Client, admin: dict[str, Any]) -> None:
    bad = http.get(
        "/v1/users",
        params={"pageToken": "not-a-token"},
        headers=bearer(admin["tokens"]["accessToken"]),
    )
    json_error(bad, 400)
    too_big = http.get(
        "/v1/users", params={"pageSize": 1000}, headers=bearer(admin["tokens"]["accessToken"])
    )
    json_error(too_big, 400, "page_size")
