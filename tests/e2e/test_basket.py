"""The basket service through the edge: HTTP/JSON and gRPC with a customer's token,
updates with field mask and etag, its own event published and consumed (the admin's
statistics), creates refused once an admin disabled the account (the service asks the
user service), and its internal service unreachable from outside."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from agora.basket.v1 import basket_pb2, basket_pb2_grpc
from pkg.testing import status_details

from ._api import bearer, detail, json_error
from ._grpc import mtls_channel
from ._mesh import Mesh

pytestmark = pytest.mark.e2e
ROUNDS = 200
"""Most statistics reads (0.05 s apart) while the event goes outbox -> relay -> stream ->
consumer."""


def _auth(customer: dict[str, Any]) -> dict[str, str]:
    return bearer(customer["tokens"]["accessToken"])


def test_create_get_and_list_over_http(http: httpx.Client, customer: dict[str, Any]) -> None:
    created = http.post("/v1/baskets", json={"displayName": "E2E"}, headers=_auth(customer))
    assert created.status_code == 200, created.text
    basket = created.json()
    assert basket["name"].startswith("baskets/") and basket["displayName"] == "E2E"
    got = http.get(f"/v1/{basket['name']}", headers=_auth(customer))
    assert got.status_code == 200 and got.json() == basket, got.text
    listed = http.get("/v1/baskets", params={"pageSize": 100}, headers=_auth(customer))
    assert listed.status_code == 200, listed.text
    assert basket["name"] in [item["name"] for item in listed.json()["baskets"]]


def test_a_replayed_request_id_gets_the_same_basket(
    http: httpx.Client, customer: dict[str, Any]
) -> None:
    body = {"displayName": "Replay"}
    request_id = str(uuid.uuid4())
    first = http.post(
        "/v1/baskets", params={"requestId": request_id}, json=body, headers=_auth(customer)
    )
    again = http.post(
        "/v1/baskets", params={"requestId": request_id}, json=body, headers=_auth(customer)
    )
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json()["name"] == first.json()["name"]
    other = http.post(
        "/v1/baskets",
        params={"requestId": request_id},
        json={"displayName": "Other"},
        headers=_auth(customer),
    )
    info = detail(json_error(other, 400, "request_id"), "google.rpc.ErrorInfo")
    assert info is not None and info["reason"] == "IDEMPOTENCY_KEY_REUSED"


def test_bad_input_is_a_400_naming_the_field(http: httpx.Client, customer: dict[str, Any]) -> None:
    response = http.post("/v1/baskets", json={"displayName": ""}, headers=_auth(customer))
    json_error(response, 400, "display_name")


def test_no_token_is_a_401(http: httpx.Client) -> None:
    assert http.get("/v1/baskets").status_code == 401


def test_auths_jwks_is_kept_in_the_services_data_folder(
    mesh: Mesh, http: httpx.Client, customer: dict[str, Any]
) -> None:
    cache = Path(mesh.service_env("basket")["AGORA_BASKET_JWKS_CACHE_FILE"])
    assert cache == mesh.data_dir / "basket" / "jwks.json"
    assert http.get("/v1/baskets", headers=_auth(customer)).status_code == 200
    assert json.loads(cache.read_text(encoding="utf-8"))["keys"]


async def test_create_and_get_with_stubs(
    edge_channel: grpc.aio.Channel, customer: dict[str, Any]
) -> None:
    stub = basket_pb2_grpc.BasketServiceStub(edge_channel)
    metadata = (("authorization", f"Bearer {customer['tokens']['accessToken']}"),)
    created = await stub.CreateBasket(
        basket_pb2.CreateBasketRequest(basket=basket_pb2.Basket(display_name="Stub")),
        metadata=metadata,
        timeout=10,
    )
    got = await stub.GetBasket(
        basket_pb2.GetBasketRequest(name=created.name), metadata=metadata, timeout=10
    )
    assert got == created
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetBasket(
            basket_pb2.GetBasketRequest(name=f"baskets/{uuid.uuid4()}"),
            metadata=metadata,
            timeout=10,
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert status_details(caught.value)["error_info"].reason == "BASKET_NOT_FOUND"


def test_update_with_field_mask_and_etag_over_http(
    http: httpx.Client, customer: dict[str, Any]
) -> None:
    created = http.post("/v1/baskets", json={"displayName": "Old"}, headers=_auth(customer))
    assert created.status_code == 200, created.text
    basket = created.json()
    path, mask = f"/v1/{basket['name']}", {"updateMask": "display_name"}
    updated = http.patch(
        path,
        params=mask,
        json={"displayName": "New", "etag": basket["etag"]},
        headers=_auth(customer),
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["displayName"] == "New" and updated.json()["etag"] != basket["etag"]
    stale = http.patch(
        path,
        params=mask,
        json={"displayName": "Lost", "etag": basket["etag"]},
        headers=_auth(customer),
    )
    info = detail(json_error(stale, 409), "google.rpc.ErrorInfo")
    assert info is not None and info["reason"] == "ETAG_MISMATCH"


def test_a_created_basket_is_published_and_consumed(
    http: httpx.Client, customer: dict[str, Any], admin: dict[str, Any]
) -> None:
    path = "/v1/baskets:statistics"
    assert http.get(path, headers=_auth(customer)).status_code == 403
    before = http.get(path, headers=_auth(admin))
    assert before.status_code == 200, before.text
    counted = int(before.json().get("createdCount", "0"))
    created = http.post("/v1/baskets", json={"displayName": "Event"}, headers=_auth(customer))
    assert created.status_code == 200, created.text
    now = counted
    for _ in range(ROUNDS):
        now = int(http.get(path, headers=_auth(admin)).json().get("createdCount", "0"))
        if now > counted:
            break
        time.sleep(0.05)
    assert now > counted, "BasketCreated never reached the basket service's consumer"


def test_a_disabled_account_cannot_create_though_its_access_token_lives(
    http: httpx.Client, customer: dict[str, Any], admin: dict[str, Any]
) -> None:
    active = http.post("/v1/baskets", json={"displayName": "Active"}, headers=_auth(customer))
    assert active.status_code == 200, active.text
    disabled = http.post(f"/v1/{customer['user']['name']}:disable", json={}, headers=_auth(admin))
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["state"] == "STATE_DISABLED"
    refused = http.post("/v1/baskets", json={"displayName": "Refused"}, headers=_auth(customer))
    info = detail(json_error(refused, 403), "google.rpc.ErrorInfo")
    assert info is not None and info["reason"] == "ACCOUNT_DISABLED", refused.text
    assert http.get("/v1/baskets", headers=_auth(customer)).status_code == 200, (
        "the token should still be valid: only CreateBasket asks about the account"
    )


async def test_the_internal_service_is_not_reachable_from_outside(
    mesh: Mesh, edge_channel: grpc.aio.Channel
) -> None:
    request = basket_pb2.GetBasketRequest(name=f"baskets/{uuid.uuid4()}")
    with pytest.raises(grpc.aio.AioRpcError) as at_edge:
        await basket_pb2_grpc.BasketInternalServiceStub(edge_channel).GetBasket(request, timeout=10)
    assert at_edge.value.code() is grpc.StatusCode.UNIMPLEMENTED
    async with mtls_channel(mesh, "basket", "edge") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as as_edge:
            await basket_pb2_grpc.BasketInternalServiceStub(channel).GetBasket(request, timeout=10)
    assert as_edge.value.code() is grpc.StatusCode.PERMISSION_DENIED
