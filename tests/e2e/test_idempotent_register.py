"""Register's ``requestId`` through the edge over HTTP/JSON (AIP-155): a repeat of the
same registration gets the same user; a repeat with another password gets a 400 and no
tokens, so a leaked or guessed request id never hands out someone's account; and while
failed logins have the account locked, a replay is refused (429) whatever its password, so
replays are no way around the login throttle."""

from __future__ import annotations

import uuid

import httpx
import pytest

from ._api import PASSWORD, WRONG_PASSWORD, detail, json_error, random_email

pytestmark = pytest.mark.e2e


def _body(email: str, request_id: str, password: str = PASSWORD) -> dict[str, str]:
    return {"email": email, "password": password, "displayName": "Replay", "requestId": request_id}


def test_the_same_registration_twice_gets_the_same_user(http: httpx.Client) -> None:
    body = _body(random_email(), str(uuid.uuid4()))
    first = http.post("/v1/auth:register", json=body)
    again = http.post("/v1/auth:register", json=body)
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json()["user"]["name"] == first.json()["user"]["name"]


def test_a_replay_with_another_password_is_refused_without_tokens(http: httpx.Client) -> None:
    email, request_id = random_email(), str(uuid.uuid4())
    first = http.post("/v1/auth:register", json=_body(email, request_id))
    assert first.status_code == 200, first.text
    replay = http.post("/v1/auth:register", json=_body(email, request_id, WRONG_PASSWORD))
    body = json_error(replay, 400, "request_id")
    assert "accessToken" not in replay.text and "refreshToken" not in replay.text
    info = detail(body, "google.rpc.ErrorInfo")
    assert info is not None and info["reason"] == "IDEMPOTENCY_KEY_REUSED", body
    bad_request = detail(body, "google.rpc.BadRequest")
    assert bad_request is not None, body
    assert [v["field"] for v in bad_request["fieldViolations"]] == ["request_id"]


MAX_LOGINS = 30


def test_a_replay_while_failed_logins_lock_the_account_is_throttled_like_a_login(
    http: httpx.Client,
) -> None:
    email, request_id = random_email(), str(uuid.uuid4())
    first = http.post("/v1/auth:register", json=_body(email, request_id))
    assert first.status_code == 200, first.text
    statuses = []
    for _ in range(MAX_LOGINS):
        login = http.post("/v1/auth:login", json={"email": email, "password": WRONG_PASSWORD})
        statuses.append(login.status_code)
        if login.status_code != 401:
            break
    assert statuses[-1] == 429 and statuses.count(401) >= 3, statuses

    for password in (PASSWORD, WRONG_PASSWORD):
        replay = http.post("/v1/auth:register", json=_body(email, request_id, password))
        body = json_error(replay, 429)
        assert "accessToken" not in replay.text and "refreshToken" not in replay.text
        info = detail(body, "google.rpc.ErrorInfo")
        assert info is not None and info["reason"] == "TOO_MANY_ATTEMPTS", body
        assert info["metadata"]["scope"] == "account", body
        assert detail(body, "google.rpc.RetryInfo") is not None, body
