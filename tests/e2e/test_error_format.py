"""One error format end to end: every error body a client gets from the edge is a
``google.rpc.Status`` in JSON (``code`` a google.rpc.Code, ``message``, ``details`` list),
whether the service or the edge itself (transcoder, JWT check, routing) answered."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ._api import PASSWORD, json_error, random_email

pytestmark = pytest.mark.e2e

_CASES: dict[str, tuple[Callable[[httpx.Client], httpx.Response], int, int]] = {
    "service-validation": (lambda c: c.post("/v1/auth:register", json={}), 400, 3),
    "malformed-json": (
        lambda c: c.post(
            "/v1/auth:register", content=b'{"email":', headers={"content-type": "application/json"}
        ),
        400,
        3,
    ),
    "wrong-type": (
        lambda c: c.post(
            "/v1/auth:register", json={"email": 5, "password": PASSWORD, "displayName": "x"}
        ),
        400,
        3,
    ),
    "unknown-query": (lambda c: c.get("/.well-known/jwks.json", params={"x": "1"}), 400, 3),
    "no-route": (lambda c: c.post("/v1/users:create", json={"email": random_email()}), 404, 5),
    "missing-token": (lambda c: c.get("/v1/users/me"), 401, 16),
    "bad-token": (
        lambda c: c.get("/v1/users/me", headers={"Authorization": "Bearer x.y.z"}),
        401,
        16,
    ),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_error_body_is_a_google_rpc_status(http: httpx.Client, case: str) -> None:
    send, http_status, grpc_code = _CASES[case]
    body = json_error(send(http), http_status)
    assert body.get("code") == grpc_code, (
        f"`code` should be the google.rpc.Code {grpc_code}, not {body.get('code')!r}: {body}"
    )
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("details", []), list), f"`details` is not a list: {body}"
