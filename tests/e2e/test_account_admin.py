"""Admins change accounts through the edge, and the change reaches the user's sessions
through the event backbone: user's outbox -> relay -> ``agora:events:{user}`` -> auth's
consumer group -> refresh-token families revoked.

A role grant makes the user's next refresh fail, and the new login carries the role; a
disabled account cannot log in; the stream holds the user's events in commit order.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import redis

from agora.events.v1 import envelope_pb2
from tests.e2e._api import PASSWORD, bearer, json_error, jwt_parts, login, register
from tests.e2e._mesh import Mesh

pytestmark = pytest.mark.e2e
PROPAGATION_BOUND = 15.0
"""Seconds the event may take from the admin's commit to auth's revocation (bound only)."""


def _until_refresh_is_refused(http: httpx.Client, refresh_token: str) -> dict[str, Any]:
    """Refresh (with the newest token of the family) until it is refused; the refusal."""
    deadline = time.monotonic() + PROPAGATION_BOUND
    while True:
        response = http.post("/v1/auth:refresh", json={"refreshToken": refresh_token})
        if response.status_code != 200:
            return json_error(response, 401, "INVALID_REFRESH_TOKEN")
        refresh_token = response.json()["refreshToken"]
        assert time.monotonic() < deadline, "the family was not revoked in time"
        time.sleep(0.2)


def _events_of(mesh: Mesh, name: str) -> list[str]:
    url = mesh.service_env("user")["AGORA_USER_REDIS_URL"]
    with redis.Redis.from_url(url) as client:
        entries = client.xrange("agora:events:{user}")
    types = []
    for _, fields in entries:
        envelope = envelope_pb2.Envelope.FromString(fields[b"envelope"])
        if envelope.subject == name:
            types.append(envelope.type.removeprefix("agora.user.v1."))
    return types


def test_a_granted_role_reaches_the_next_login_and_a_disabled_account_is_refused(
    mesh: Mesh, http: httpx.Client, admin: dict[str, Any]
) -> None:
    customer = register(http)
    name, etag = customer["user"]["name"], customer["user"]["etag"]
    as_admin = bearer(admin["tokens"]["accessToken"])

    granted = http.post(
        f"/v1/{name}:setRoles",
        headers=as_admin,
        json={"roles": ["ROLE_CUSTOMER", "ROLE_PROVIDER"], "etag": etag},
    )
    assert granted.status_code == 200, granted.text
    assert granted.json()["roles"] == ["ROLE_CUSTOMER", "ROLE_PROVIDER"]
    assert granted.json()["etag"] != etag

    _until_refresh_is_refused(http, customer["tokens"]["refreshToken"])
    tokens = login(http, customer["user"]["email"])
    assert set(jwt_parts(tokens["accessToken"])[1]["roles"]) == {"customer", "provider"}

    disabled = http.post(f"/v1/{name}:disable", headers=as_admin, json={})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["state"] == "STATE_DISABLED"
    refused = http.post(
        "/v1/auth:login", json={"email": customer["user"]["email"], "password": PASSWORD}
    )
    json_error(refused, 403, "ACCOUNT_DISABLED")
    _until_refresh_is_refused(http, tokens["refreshToken"])

    enabled = http.post(
        f"/v1/{name}:enable", headers=as_admin, json={"etag": disabled.json()["etag"]}
    )
    assert enabled.status_code == 200 and enabled.json()["state"] == "STATE_ACTIVE"
    assert login(http, customer["user"]["email"])["accessToken"]

    deadline = time.monotonic() + PROPAGATION_BOUND
    while (seen := _events_of(mesh, name)) != [
        "UserCreated",
        "UserRolesChanged",
        "UserDisabled",
        "UserEnabled",
    ]:
        assert time.monotonic() < deadline, seen
        time.sleep(0.2)


def test_account_changes_are_for_admins_checked_by_etag_and_never_self_lockout(
    http: httpx.Client, admin: dict[str, Any]
) -> None:
    customer = register(http)
    name, etag = customer["user"]["name"], customer["user"]["etag"]
    as_customer = bearer(customer["tokens"]["accessToken"])
    as_admin = bearer(admin["tokens"]["accessToken"])
    admin_name = jwt_parts(admin["tokens"]["accessToken"])[1]["sub"]
    admin_name = admin_name if admin_name.startswith("users/") else f"users/{admin_name}"

    json_error(
        http.post(f"/v1/{name}:setRoles", headers=as_customer, json={"roles": ["ROLE_PROVIDER"]}),
        403,
    )
    json_error(http.post(f"/v1/{name}:disable", json={}), 401)
    assert (
        http.post(f"/v1/{name}:disable", headers=as_admin, json={"etag": etag}).status_code == 200
    )
    json_error(
        http.post(f"/v1/{name}:enable", headers=as_admin, json={"etag": etag}), 409, "ETAG_MISMATCH"
    )
    json_error(
        http.post(f"/v1/{admin_name}:disable", headers=as_admin, json={}), 400, "SELF_LOCKOUT"
    )
    json_error(
        http.post(f"/v1/{name}:setRoles", headers=as_admin, json={"roles": []}), 400, "roles"
    )
    json_error(
        http.post(f"/v1/{name}:setRoles", headers=as_admin, json={"roles": ["ROLE_UNSPECIFIED"]}),
        400,
        "roles",
    )
    json_error(http.post("/v1/users/me:disable", headers=as_admin, json={}), 400, "name")
