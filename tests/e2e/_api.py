"""HTTP/JSON helpers for the e2e tests: factories and assertions a client would make."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "not the right password"


def random_email() -> str:
    """A fresh address (unique per call), lower case."""
    return f"e2e-{uuid.uuid4().hex[:16]}@example.com"


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header for an access token."""
    return {"Authorization": f"Bearer {token}"}


def register(
    client: httpx.Client,
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str = "E2E Customer",
) -> dict[str, Any]:
    """Register through ``POST /v1/auth:register``; assert 200; return the JSON body.

    The body is ``{"user": {...}, "tokens": {...}}``; ``email`` is a fresh one when None.
    """
    email = email or random_email()
    response = client.post(
        "/v1/auth:register",
        json={"email": email, "password": password, "displayName": display_name},
    )
    assert response.status_code == 200, f"register {email}: {response.status_code} {response.text}"
    return dict(response.json())


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """``POST /v1/auth:login``; assert 200; return the token pair."""
    response = client.post("/v1/auth:login", json={"email": email, "password": password})
    assert response.status_code == 200, f"login {email}: {response.status_code} {response.text}"
    return dict(response.json())


def json_error(response: httpx.Response, status: int, *mentions: str) -> dict[str, Any]:
    """Assert ``response`` is the HTTP error ``status`` with a JSON body; return the body.

    The body must parse as a JSON object, must not carry a Python traceback, and must
    mention each of ``mentions`` (case-insensitive; ``display_name`` or ``displayName``).
    """
    text = response.text
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url.path} -> "
        f"{response.status_code}, wanted {status}: {text[:500]}"
    )
    assert "application/json" in response.headers.get("content-type", ""), (
        f"error body is not JSON ({response.headers.get('content-type')}): {text[:500]}"
    )
    body = response.json()
    assert isinstance(body, dict), body
    assert "Traceback" not in text and 'File "' not in text, text
    for word in mentions:
        spellings = {word.lower(), _camel(word).lower()}
        assert any(s in text.lower() for s in spellings), (
            f"error body does not mention {word!r}: {text}"
        )
    return body


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def detail(body: dict[str, Any], type_suffix: str) -> dict[str, Any] | None:
    """The first entry of ``body["details"]`` whose ``@type`` ends with ``type_suffix``."""
    details = body.get("details")
    if not isinstance(details, list):
        return None
    for entry in details:
        if isinstance(entry, dict) and str(entry.get("@type", "")).endswith(type_suffix):
            return entry
    return None


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, claims) of a compact JWS, without verifying it."""
    header, payload, _ = token.split(".")
    return json.loads(_b64decode(header)), json.loads(_b64decode(payload))


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
