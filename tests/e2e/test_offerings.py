"""Service offerings through the edge over HTTP/JSON: an admin creates an offering, a user
granted the provider role logs in again and adds it to their profile (twice is once),
anyone lists the offering's providers and the provider's offerings, and a customer may
not add one (403); once an admin disables the provider's account, the same token can
neither add nor remove (403 ACCOUNT_DISABLED: the catalog asks the user service)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e._api import bearer, detail, json_error, jwt_parts, login, register

pytestmark = pytest.mark.e2e


def test_an_admin_offering_reaches_a_provider_profile_and_customers_are_refused(
    http: httpx.Client, admin: dict[str, Any]
) -> None:
    as_admin = bearer(admin["tokens"]["accessToken"])
    created = http.post(
        "/v1/offerings",
        headers=as_admin,
        json={"title": "E2E plumbing", "description": "Leaks fixed."},
    )
    assert created.status_code == 200, created.text
    offering = created.json()
    assert offering["name"].startswith("offerings/") and offering["title"] == "E2E plumbing"

    user = register(http)
    customer_tokens = user["tokens"]
    name = user["user"]["name"]
    refused = http.post(
        "/v1/providers/me/offerings",
        headers=bearer(customer_tokens["accessToken"]),
        json={"offering": offering["name"]},
    )
    json_error(refused, 403)

    granted = http.post(
        f"/v1/{name}:setRoles",
        headers=as_admin,
        json={"roles": ["ROLE_CUSTOMER", "ROLE_PROVIDER"], "etag": user["user"]["etag"]},
    )
    assert granted.status_code == 200, granted.text
    tokens = login(http, user["user"]["email"])
    assert "provider" in jwt_parts(tokens["accessToken"])[1]["roles"]
    as_provider = bearer(tokens["accessToken"])

    added = http.post(
        "/v1/providers/me/offerings", headers=as_provider, json={"offering": offering["name"]}
    )
    assert added.status_code == 200, added.text
    user_id = name.removeprefix("users/")
    assert added.json()["provider"] == f"providers/{user_id}"
    twice = http.post(
        "/v1/providers/me/offerings", headers=as_provider, json={"offering": offering["name"]}
    )
    assert twice.status_code == 200 and twice.json() == added.json(), twice.text

    providers = http.get(f"/v1/{offering['name']}:listProviders")
    assert providers.status_code == 200, providers.text
    assert [link["provider"] for link in providers.json()["providerOfferings"]] == [
        f"providers/{user_id}"
    ]
    of_provider = http.get(f"/v1/providers/{user_id}/offerings")
    assert of_provider.status_code == 200, of_provider.text
    assert [link["offering"] for link in of_provider.json()["providerOfferings"]] == [
        offering["name"]
    ]
    listed = http.get("/v1/offerings", params={"filter": 'title = "E2E plumbing"'})
    assert listed.status_code == 200, listed.text
    assert offering["name"] in [item["name"] for item in listed.json()["offerings"]]


def test_a_disabled_provider_cannot_change_their_profile_though_the_token_lives(
    http: httpx.Client, admin: dict[str, Any]
) -> None:
    as_admin = bearer(admin["tokens"]["accessToken"])
    created = [
        http.post("/v1/offerings", headers=as_admin, json={"title": title})
        for title in ("E2E moving", "E2E tutoring")
    ]
    assert all(r.status_code == 200 for r in created), [r.text for r in created]
    kept, refused_offering = (r.json()["name"] for r in created)
    user = register(http)
    name = user["user"]["name"]
    granted = http.post(
        f"/v1/{name}:setRoles",
        headers=as_admin,
        json={"roles": ["ROLE_CUSTOMER", "ROLE_PROVIDER"], "etag": user["user"]["etag"]},
    )
    assert granted.status_code == 200, granted.text
    as_provider = bearer(login(http, user["user"]["email"])["accessToken"])
    added = http.post("/v1/providers/me/offerings", headers=as_provider, json={"offering": kept})
    assert added.status_code == 200, added.text

    disabled = http.post(f"/v1/{name}:disable", headers=as_admin, json={})
    assert disabled.status_code == 200 and disabled.json()["state"] == "STATE_DISABLED"
    add = http.post(
        "/v1/providers/me/offerings", headers=as_provider, json={"offering": refused_offering}
    )
    remove = http.delete(f"/v1/providers/me/{kept}", headers=as_provider)
    for refused in (add, remove):
        info = detail(json_error(refused, 403), "google.rpc.ErrorInfo")
        assert info is not None and info["reason"] == "ACCOUNT_DISABLED", refused.text
    of_provider = http.get(f"/v1/providers/{name.removeprefix('users/')}/offerings")
    assert [link["offering"] for link in of_provider.json()["providerOfferings"]] == [kept]
