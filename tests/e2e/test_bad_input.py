"""Bad input through the edge: a 4xx with a JSON body naming the problem, never a 500,
never a traceback, never a half-written record; bad tokens get 401."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ._api import (
    PASSWORD,
    b64url,
    bearer,
    detail,
    json_error,
    jwt_parts,
    random_email,
    register,
)
from ._mesh import Mesh

pytestmark = pytest.mark.e2e

REGISTER = "/v1/auth:register"


def _register_body(**overrides: Any) -> dict[str, Any]:
    return {"email": random_email(), "password": PASSWORD, "displayName": "Bad Input", **overrides}


def test_malformed_json(http: httpx.Client) -> None:
    response = http.post(
        REGISTER,
        content=b'{"email": "a@example.com", "password": ',
        headers={"content-type": "application/json"},
    )
    json_error(response, 400)


def test_missing_fields_are_named(http: httpx.Client) -> None:
    body = json_error(http.post(REGISTER, json={}), 400, "email", "password", "display_name")
    assert body.get("code") == 3, body  # INVALID_ARGUMENT


def test_wrong_typed_field(http: httpx.Client) -> None:
    json_error(http.post(REGISTER, json=_register_body(email=5)), 400, "email")


def test_invalid_email(http: httpx.Client) -> None:
    body = json_error(http.post(REGISTER, json=_register_body(email="not-an-email")), 400, "email")
    violations = next(
        (
            d
            for d in body.get("details", [])
            if str(d.get("@type", "")).endswith("google.rpc.BadRequest")
        ),
        None,
    )
    assert violations is not None, body
    assert any(v.get("field") == "email" for v in violations.get("fieldViolations", [])), body


def test_over_long_display_name(http: httpx.Client) -> None:
    json_error(http.post(REGISTER, json=_register_body(displayName="x" * 101)), 400, "display_name")


def test_short_password(http: httpx.Client) -> None:
    json_error(http.post(REGISTER, json=_register_body(password="short")), 400, "password")


def test_unknown_json_field(http: httpx.Client) -> None:
    body = json_error(http.post(REGISTER, json=_register_body(isAdmin=True)), 400, "isAdmin")
    assert body.get("code") == 3, body  # INVALID_ARGUMENT
    violations = detail(body, "google.rpc.BadRequest")
    assert violations is not None, body
    assert [v.get("field") for v in violations.get("fieldViolations", [])] == ["isAdmin"], body


def test_unknown_json_fields_grant_nothing(http: httpx.Client) -> None:
    response = http.post(REGISTER, json=_register_body(isAdmin=True, role="ROLE_ADMIN", admin=True))
    if response.status_code == 200:
        assert response.json()["user"]["roles"] == ["ROLE_CUSTOMER"], response.text
    else:
        json_error(response, 400)


def test_admin_role_cannot_be_registered(http: httpx.Client) -> None:
    json_error(http.post(REGISTER, json=_register_body(roles=["ROLE_ADMIN"])), 400, "roles")
    json_error(http.post(REGISTER, json=_register_body(roles=["ROLE_NOBODY"])), 400)


def test_unknown_query_parameter(http: httpx.Client, customer: dict[str, Any]) -> None:
    response = http.get(
        "/v1/users/me", params={"debug": "1"}, headers=bearer(customer["tokens"]["accessToken"])
    )
    json_error(response, 400, "debug")


def test_update_mask_outside_the_allowed_fields(
    http: httpx.Client, customer: dict[str, Any]
) -> None:
    response = http.patch(
        "/v1/users/me",
        params={"updateMask": "email"},
        json={"displayName": "Mallory"},
        headers=bearer(customer["tokens"]["accessToken"]),
    )
    json_error(response, 400, "update_mask")
    me = http.get("/v1/users/me", headers=bearer(customer["tokens"]["accessToken"]))
    assert me.json()["displayName"] == customer["user"]["displayName"]


def test_duplicate_email_is_a_conflict(http: httpx.Client, customer: dict[str, Any]) -> None:
    again = http.post(REGISTER, json=_register_body(email=customer["email"].upper()))
    body = json_error(again, 409)
    assert body.get("code") == 6, body  # ALREADY_EXISTS


@pytest.mark.parametrize(
    "bad", [{"password": "short"}, {"displayName": "x" * 101}, {"displayName": ""}]
)
def test_failed_register_leaves_no_user_behind(http: httpx.Client, bad: dict[str, Any]) -> None:
    email = random_email()
    json_error(http.post(REGISTER, json=_register_body(email=email, **bad)), 400)
    json_error(http.post("/v1/auth:login", json={"email": email, "password": PASSWORD}), 401)
    assert register(http, email)["user"]["email"] == email


def test_oversized_body_is_refused(http: httpx.Client) -> None:
    response = http.post(REGISTER, json=_register_body(displayName="x" * (2 * 1024 * 1024)))
    assert response.status_code == 413, response.text[:300]


# --- access tokens -------------------------------------------------------------------------


def _signing_key(mesh: Mesh, kid: str) -> Any:
    """The auth service's private key ``kid`` from ``<data>/auth/keys`` (PEM files)."""
    keys_dir = mesh.data_dir / "auth" / "keys"
    candidates = sorted(p for p in keys_dir.glob("*") if p.is_file()) if keys_dir.is_dir() else []
    named = [p for p in candidates if p.stem == kid or p.name == kid]
    for path in named or candidates:
        try:
            return load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError):
            continue
    pytest.fail(
        f"no PEM signing key for kid {kid!r} under {keys_dir} "
        f"(found: {[p.name for p in candidates]})",
        pytrace=False,
    )


def _resign(mesh: Mesh, token: str, **changes: Any) -> str:
    header, claims = jwt_parts(token)
    return jwt.encode(
        {**claims, **changes},
        _signing_key(mesh, header["kid"]),
        algorithm=header.get("alg", "ES256"),
        headers={"kid": header["kid"]},
    )


def _me(http: httpx.Client, token: str) -> httpx.Response:
    return http.get("/v1/users/me", headers=bearer(token))


def test_resigned_token_is_accepted_as_a_control(
    http: httpx.Client, mesh: Mesh, customer: dict[str, Any]
) -> None:
    token = _resign(mesh, customer["tokens"]["accessToken"], jti="control")
    response = _me(http, token)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == customer["email"]


def test_expired_token(http: httpx.Client, mesh: Mesh, customer: dict[str, Any]) -> None:
    now = int(time.time())
    token = _resign(mesh, customer["tokens"]["accessToken"], iat=now - 7200, exp=now - 3600)
    json_error(_me(http, token), 401)


def test_token_for_another_audience(
    http: httpx.Client, mesh: Mesh, customer: dict[str, Any]
) -> None:
    token = _resign(mesh, customer["tokens"]["accessToken"], aud="someone-else")
    json_error(_me(http, token), 401)


def test_token_from_another_issuer(
    http: httpx.Client, mesh: Mesh, customer: dict[str, Any]
) -> None:
    token = _resign(mesh, customer["tokens"]["accessToken"], iss="https://evil.example")
    json_error(_me(http, token), 401)


def test_tampered_signature(http: httpx.Client, customer: dict[str, Any]) -> None:
    header, payload, signature = customer["tokens"]["accessToken"].split(".")
    flipped = "A" if signature[10] != "A" else "B"
    token = f"{header}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
    json_error(_me(http, token), 401)


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "someone-else"},
        {"roles": ["admin"]},
        {"sub": "00000000-0000-0000-0000-000000000000"},
    ],
    ids=["aud", "roles", "sub"],
)
def test_tampered_claims(
    http: httpx.Client, customer: dict[str, Any], change: dict[str, Any]
) -> None:
    token = customer["tokens"]["accessToken"]
    header, _, signature = token.split(".")
    _, claims = jwt_parts(token)
    forged = f"{header}.{b64url(json.dumps({**claims, **change}).encode())}.{signature}"
    json_error(_me(http, forged), 401)
    json_error(http.get("/v1/users", headers=bearer(forged)), 401)


def test_token_signed_with_a_foreign_key(http: httpx.Client, customer: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    header, claims = jwt_parts(customer["tokens"]["accessToken"])
    foreign = jwt.encode(
        claims,
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": header["kid"]},
    )
    json_error(_me(http, foreign), 401)
    none_alg = b64url(b'{"alg":"none","typ":"JWT"}') + "." + b64url(json.dumps(claims).encode())
    json_error(_me(http, none_alg + "."), 401)


# --- the strict edge (issue 5) ---------------------------------------------------------------


def test_a_query_parameter_cannot_read_another_user(
    http: httpx.Client, customer: dict[str, Any]
) -> None:
    other = register(http)["user"]["name"]
    for params in ({"name": other}, {"name.x": "1"}):
        response = http.get(
            "/v1/users/me", params=params, headers=bearer(customer["tokens"]["accessToken"])
        )
        json_error(response, 400, next(iter(params)))


def test_a_query_parameter_cannot_change_a_body_field(
    http: httpx.Client, customer: dict[str, Any]
) -> None:
    response = http.patch(
        "/v1/users/me",
        params={"user.displayName": "Mallory"},
        json={"displayName": "Alice"},
        headers=bearer(customer["tokens"]["accessToken"]),
    )
    json_error(response, 400, "user.displayName")
    json_error(
        http.post(REGISTER, params={"roles": "ROLE_ADMIN"}, json=_register_body()), 400, "roles"
    )


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "%s", "password": "%s", "displayName": "A", "display_name": "B"}',
        '{"email": "%s", "password": "%s", "displayName": "A", "displayName": "B"}',
    ],
)
def test_a_field_given_twice_is_refused(http: httpx.Client, body: str) -> None:
    response = http.post(
        REGISTER,
        content=body % (random_email(), PASSWORD),
        headers={"content-type": "application/json"},
    )
    json_error(response, 400, "display")


def test_a_string_for_a_list_is_refused(http: httpx.Client) -> None:
    json_error(http.post(REGISTER, json=_register_body(roles="ROLE_CUSTOMER")), 400, "roles")


def test_a_cors_simple_text_plain_body_is_refused(http: httpx.Client) -> None:
    response = http.post(
        REGISTER, content=json.dumps(_register_body()), headers={"content-type": "text/plain"}
    )
    json_error(response, 415)


def test_grpc_control_headers_from_http_clients_are_ignored(
    http: httpx.Client, customer: dict[str, Any]
) -> None:
    headers = {
        **bearer(customer["tokens"]["accessToken"]),
        "grpc-timeout": "bogus",
        "grpc-encoding": "snappy",
        "grpc-previous-rpc-attempts": "x",
        "grpc-accept-encoding": "zz",
    }
    response = http.get("/v1/users/me", headers=headers)
    assert response.status_code == 200, response.text
    response = http.get("/v1/users/me", headers={**headers, "grpc-timeout": "1n"})
    assert response.status_code == 200, response.text
