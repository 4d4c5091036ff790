"""Login throttling: repeated wrong passwords for one account end in 429 with RetryInfo."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from ._api import WRONG_PASSWORD, detail, json_error

pytestmark = pytest.mark.e2e

MAX_ATTEMPTS = 30


def test_repeated_wrong_passwords_are_throttled(
    http: httpx.Client, customer: dict[str, Any]
) -> None:
    statuses = []
    response = None
    for _ in range(MAX_ATTEMPTS):
        response = http.post(
            "/v1/auth:login", json={"email": customer["email"], "password": WRONG_PASSWORD}
        )
        statuses.append(response.status_code)
        if response.status_code != 401:
            break
    assert response is not None
    assert statuses[0] == 401, statuses
    body = json_error(response, 429)
    assert body.get("code") == 8, body  # RESOURCE_EXHAUSTED
    retry = detail(body, "google.rpc.RetryInfo")
    assert retry is not None, f"no RetryInfo in {body}"
    delay = str(retry.get("retryDelay", ""))
    assert delay.endswith("s") and float(delay[:-1]) > 0, retry
    assert int(response.headers["retry-after"]) == math.ceil(float(delay[:-1])), response.headers
    assert statuses.count(401) >= 3, f"throttled too early: {statuses}"

    again = http.post(
        "/v1/auth:login", json={"email": customer["email"], "password": "still not the password"}
    )
    json_error(again, 429)
