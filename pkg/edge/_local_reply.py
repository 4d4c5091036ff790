"""``local_reply_config``: every reply Envoy makes itself is a ``google.rpc.Status`` in JSON.

Services' errors reach HTTP clients through the transcoder's ``convert_grpc_status`` as
``{"code": <google.rpc.Code>, "message", "details": [...]}``. Those are upstream responses
(response code details ``via_upstream``) and never pass through ``local_reply_config``, which
Envoy applies only to replies it generates (``sendLocalReply``: transcoder 400/404, jwt_authn
401/403, buffer 413, the strict JSON Lua filter's 400, router 503/504, codec errors). So the
mappers below can match on the HTTP status alone and still leave every service body, with
its details, as the service wrote it.

Mappers, first match wins:

1. Native gRPC requests (``content-type: application/grpc*`` and no ``x-envoy-original-path``,
   which the transcoder sets on requests it transcoded): the body becomes ``grpc-message``,
   so it stays plain text; a jwt_authn 403 is turned into 401 (UNAUTHENTICATED) first.
2. jwt_authn could not fetch the JWKS (details ``JWKS_FETCH_FAILED``): 503 and code 14
   UNAVAILABLE with ``Retry-After: 1`` (HTTP) or gRPC UNAVAILABLE (native gRPC), since the
   token was not at fault and a retry may succeed once auth answers.
3. jwt_authn (response code details ``jwt_authn_access_denied{...}``, matched with CEL): 401
   and code 16 for every failure, because all of them are about the token, including
   jwt_authn's own 403 for a wrong ``aud`` (checked before the signature, so a tampered
   ``aud`` gets it too). ``WWW-Authenticate`` is ``Bearer`` for a missing token and
   ``Bearer error="invalid_token"`` for a bad one (RFC 6750 §3.1).
4. The strict JSON Lua filter (dynamic metadata ``agora.strict_json``): code 3 with an
   ErrorInfo whose reason the filter chose and, for an unknown field, a BadRequest naming it.
5. No route (response flag ``NR``): 404, code 5.
6. One mapper per HTTP status in ``GRPC_CODE_BY_HTTP_STATUS``; anything else is code 2.

Every JSON body carries an ErrorInfo detail with ``reason`` = Envoy's response code details
(e.g. ``request_payload_too_large``), ``domain`` = ``agora.local`` and the request id in its
metadata (also in the ``x-request-id`` response header).
"""

from __future__ import annotations

from typing import Any

STRICT_JSON_METADATA = "agora.strict_json"
ERROR_DOMAIN = "agora.local"
UNKNOWN = 2
# HTTP status of a local reply -> google.rpc.Code (the inverse of the transcoder's mapping).
# 413 is RESOURCE_EXHAUSTED like gRPC's own "message larger than max" (a size limit, not a
# malformed argument), and 429 is RESOURCE_EXHAUSTED as in google/rpc/code.proto.
GRPC_CODE_BY_HTTP_STATUS = {400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 429: 8, 503: 14, 504: 4}

_TYPE = "type.googleapis.com/google.rpc."
_CEL = "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter"
_JWT_DENIED = "jwt_authn_access_denied"
_JWT_MISSING = f"{_JWT_DENIED}{{Jwt_is_missing}}"
JWKS_FETCH_FAILED = f"{_JWT_DENIED}{{Jwks_remote_fetch_is_failed}}"
JWKS_RETRY_AFTER_SECONDS = 1


def _status_filter(status: int) -> dict[str, Any]:
    return {"status_code_filter": {"comparison": {"op": "EQ", "value": {
        "default_value": status, "runtime_key": f"agora.edge.local_reply.status_{status}"}}}}


def _cel(expression: str) -> dict[str, Any]:
    return {"extension_filter": {"name": "envoy.access_loggers.extension_filters.cel",
                                 "typed_config": {"@type": _CEL, "expression": expression}}}


def _strict_json(key: str) -> dict[str, Any]:
    return {"metadata_filter": {
        "matcher": {"filter": STRICT_JSON_METADATA, "path": [{"key": key}],
                    "value": {"present_match": True}},
        "match_if_key_not_found": False}}


_NATIVE_GRPC = {"and_filter": {"filters": [
    {"header_filter": {"header": {"name": "content-type",
                                  "string_match": {"prefix": "application/grpc"}}}},
    {"header_filter": {"header": {"name": "x-envoy-original-path", "present_match": True,
                                  "invert_match": True}}},
]}}


def _error_info(reason: str) -> dict[str, Any]:
    return {"@type": f"{_TYPE}ErrorInfo", "reason": reason, "domain": ERROR_DOMAIN,
            "metadata": {"request_id": "%REQ(X-REQUEST-ID)%"}}


def status_format(code: int, *details: dict[str, Any],
                  reason: str = "%RESPONSE_CODE_DETAILS%") -> dict[str, Any]:
    """A ``body_format`` rendering ``google.rpc.Status`` JSON with google.rpc.Code ``code``,
    the local reply's text as ``message``, ``details`` then an ErrorInfo with ``reason``."""
    return {"json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%",
                            "details": [*details, _error_info(reason)]},
            "content_type": "application/json"}


def _header(name: str, value: str) -> list[dict[str, Any]]:
    return [{"header": {"key": name, "value": value},
             "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}]


def _www_authenticate(value: str) -> list[dict[str, Any]]:
    return _header("www-authenticate", value)


def local_reply_config(*, max_request_bytes: int) -> dict[str, Any]:
    """The HTTP connection manager's ``local_reply_config`` (see the module docstring)."""
    plain = {"text_format_source": {"inline_string": "%LOCAL_REPLY_BODY%"}}
    jwt_denied = _cel(f"response.code_details.startsWith('{_JWT_DENIED}')")
    jwks_failed = _cel(f"response.code_details == '{JWKS_FETCH_FAILED}'")
    retry_after = _header("retry-after", str(JWKS_RETRY_AFTER_SECONDS))
    unknown_field = {"@type": f"{_TYPE}BadRequest", "fieldViolations": [{
        "field": f"%DYNAMIC_METADATA({STRICT_JSON_METADATA}:field)%",
        "description": "%LOCAL_REPLY_BODY%"}]}
    strict_reason = f"%DYNAMIC_METADATA({STRICT_JSON_METADATA}:reason)%"
    mappers: list[dict[str, Any]] = [
        {"filter": {"and_filter": {"filters": [_NATIVE_GRPC, jwks_failed]}},
         "status_code": 503, "headers_to_add": retry_after, "body_format_override": plain},
        {"filter": {"and_filter": {"filters": [_NATIVE_GRPC, jwt_denied]}},
         "status_code": 401, "body_format_override": plain},
        {"filter": _NATIVE_GRPC, "body_format_override": plain},
        {"filter": jwks_failed, "status_code": 503, "headers_to_add": retry_after,
         "body": {"inline_string": "the access token cannot be checked now: the JWKS is "
                                   "unavailable"},
         "body_format_override": status_format(14)},
        {"filter": _cel(f"response.code_details == '{_JWT_MISSING}'"),
         "headers_to_add": _www_authenticate("Bearer"),
         "status_code": 401, "body_format_override": status_format(16)},
        {"filter": jwt_denied,
         "headers_to_add": _www_authenticate('Bearer error="invalid_token"'),
         "status_code": 401, "body_format_override": status_format(16)},
        {"filter": _strict_json("field"),
         "body_format_override": status_format(3, unknown_field, reason=strict_reason)},
        {"filter": _strict_json("reason"),
         "body_format_override": status_format(3, reason=strict_reason)},
        {"filter": {"response_flag_filter": {"flags": ["NR"]}},
         "body": {"inline_string": "no route for this method and path"},
         "body_format_override": status_format(5)},
        {"filter": _status_filter(413),
         "body": {"inline_string": f"request body is larger than {max_request_bytes} bytes"},
         "body_format_override": status_format(8)},
    ]
    mappers += [{"filter": _status_filter(status), "body_format_override": status_format(code)}
                for status, code in GRPC_CODE_BY_HTTP_STATUS.items() if status != 413]
    return {"mappers": mappers, "body_format": status_format(UNKNOWN)}
