"""``local_reply_config``: every reply Envoy makes itself is a ``google.rpc.Status`` in JSON.

Services' errors reach HTTP clients through the transcoder's ``convert_grpc_status`` as
``{"code": <google.rpc.Code>, "message", "details": [...]}``. Those are upstream responses
(response code details ``via_upstream``) and never pass through ``local_reply_config``, which
Envoy applies only to replies it generates (``sendLocalReply``: transcoder 400/404, jwt_authn
401/403, buffer 413, the strict JSON Lua filter's 400, router 503/504, codec errors). So the
mappers below can match on the HTTP status alone and still leave every service body, with
its details, as the service wrote it.

Mappers, first match wins:

1. Native gRPC requests (``content-type`` ``application/grpc`` or ``application/grpc+<codec>``,
   as Envoy's ``Grpc::Common::hasGrpcContentType``, and no ``x-envoy-original-path``, which
   the transcoder sets on requests it transcoded): the body becomes ``grpc-message``, so it
   stays plain text. Envoy derives ``grpc-status`` from the HTTP status unless the reply
   already has one, and its mapping knows neither 413 nor 400 (both UNKNOWN/INTERNAL), so
   the mappers set ``grpc-status`` themselves (``NATIVE_GRPC_REPLIES``: 413 -> 8
   RESOURCE_EXHAUSTED, 400 -> 3, a jwt_authn 401/403 -> 16, ...) and a
   ``grpc-status-details-bin`` (base64 of a serialized ``google.rpc.Status`` with the same
   code, a fixed message and an ErrorInfo, domain ``agora.local``). That Status is static
   per mapper: it cannot carry the request id or Envoy's exact details, which stay in
   ``grpc-message`` and the ``x-request-id`` header.
2. jwt_authn could not fetch the JWKS (details ``JWKS_FETCH_FAILED``): 503 and code 14
   UNAVAILABLE with ``Retry-After: 1`` (HTTP) or gRPC UNAVAILABLE (native gRPC), since the
   token was not at fault and a retry may succeed once auth answers.
3. jwt_authn (response code details ``jwt_authn_access_denied{...}``, matched with CEL): 401
   and code 16 for every failure, because all of them are about the token, including
   jwt_authn's own 403 for a wrong ``aud`` (checked before the signature, so a tampered
   ``aud`` gets it too). ``WWW-Authenticate`` is ``Bearer`` for a missing token and
   ``Bearer error="invalid_token"`` for a bad one (RFC 6750 §3.1).
4. The guard and strict body Lua filters (dynamic metadata ``agora.strict_json``): code 3
   (code 5 for the guard's 404) with an ErrorInfo whose reason the filter chose and, for a
   field or query parameter at fault, a BadRequest naming it.
5. No route (response flag ``NR``): 404, code 5.
6. One mapper per HTTP status in ``GRPC_CODE_BY_HTTP_STATUS``; anything else is code 2.
   Every 503 (no healthy upstream, connection refused or reset) carries ``Retry-After``.

Every JSON body carries an ErrorInfo detail with ``reason`` = Envoy's response code details
(e.g. ``request_payload_too_large``), ``domain`` = ``agora.local`` and the request id in its
metadata (also in the ``x-request-id`` response header).
"""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from ._classify import GRPC_CONTENT_TYPE_REGEX

STRICT_JSON_METADATA = "agora.strict_json"
ERROR_DOMAIN = "agora.local"
UNKNOWN = 2
# HTTP status of a local reply -> google.rpc.Code (the inverse of the transcoder's mapping).
# 413 is RESOURCE_EXHAUSTED like gRPC's own "message larger than max" (a size limit, not a
# malformed argument), and 429 is RESOURCE_EXHAUSTED as in google/rpc/code.proto.
# 414/431 (URI or headers too large) are RESOURCE_EXHAUSTED like 413; 408 is the stream's
# max duration reached before the request was complete; 415 a body that is not JSON.
GRPC_CODE_BY_HTTP_STATUS = {
    400: 3,
    401: 16,
    403: 7,
    404: 5,
    408: 4,
    413: 8,
    414: 8,
    415: 3,
    429: 8,
    431: 8,
    503: 14,
    504: 4,
}
# HTTP status of a local reply to a native gRPC request -> (grpc-status, ErrorInfo reason,
# message) of its grpc-status-details-bin. 404 is UNIMPLEMENTED (no such method), as gRPC's
# own HTTP mapping has it; 504 and 408 come from the route's max stream duration.
NATIVE_GRPC_REPLIES = {
    400: (3, "bad_request", "the request is malformed"),
    403: (7, "forbidden", "the request is not allowed"),
    404: (12, "route_not_found", "no such method at the edge"),
    408: (4, "max_duration_timeout", "the route's deadline expired"),
    413: (8, "request_payload_too_large", "the request message is too large"),
    429: (8, "local_rate_limited", "too many requests"),
    503: (14, "upstream_unavailable", "the service is unavailable"),
    504: (4, "max_duration_timeout", "the route's deadline expired"),
}

_TYPE = "type.googleapis.com/google.rpc."
_CEL = "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter"
_JWT_DENIED = "jwt_authn_access_denied"
_JWT_MISSING = f"{_JWT_DENIED}{{Jwt_is_missing}}"
JWKS_FETCH_FAILED = f"{_JWT_DENIED}{{Jwks_remote_fetch_is_failed}}"
RETRY_AFTER_SECONDS = 1
"""``Retry-After`` (RFC 9110 §10.2.3) of every 503 the edge answers itself: no healthy
upstream, upstream connection refused or reset, the JWKS unavailable."""


def _status_filter(status: int) -> dict[str, Any]:
    return {
        "status_code_filter": {
            "comparison": {
                "op": "EQ",
                "value": {
                    "default_value": status,
                    "runtime_key": f"agora.edge.local_reply.status_{status}",
                },
            }
        }
    }


def _cel(expression: str) -> dict[str, Any]:
    return {
        "extension_filter": {
            "name": "envoy.access_loggers.extension_filters.cel",
            "typed_config": {"@type": _CEL, "expression": expression},
        }
    }


def _strict_json(key: str) -> dict[str, Any]:
    return {
        "metadata_filter": {
            "matcher": {
                "filter": STRICT_JSON_METADATA,
                "path": [{"key": key}],
                "value": {"present_match": True},
            },
            "match_if_key_not_found": False,
        }
    }


_NATIVE_GRPC = {
    "and_filter": {
        "filters": [
            {
                "header_filter": {
                    "header": {
                        "name": "content-type",
                        "string_match": {"safe_regex": {"regex": GRPC_CONTENT_TYPE_REGEX}},
                    }
                }
            },
            {
                "header_filter": {
                    "header": {
                        "name": "x-envoy-original-path",
                        "present_match": True,
                        "invert_match": True,
                    }
                }
            },
        ]
    }
}


# A transcoded request whose stream outlives the route's max duration: the connection manager
# answers it as gRPC (the request is gRPC by then) and the transcoder renders that reply as
# JSON itself, from grpc-status-details-bin when there is one.
_TRANSCODED = {
    "header_filter": {"header": {"name": "x-envoy-original-path", "present_match": True}}
}


def _error_info(reason: str) -> dict[str, Any]:
    return {
        "@type": f"{_TYPE}ErrorInfo",
        "reason": reason,
        "domain": ERROR_DOMAIN,
        "metadata": {"request_id": "%REQ(X-REQUEST-ID)%"},
    }


def status_format(
    code: int, *details: dict[str, Any], reason: str = "%RESPONSE_CODE_DETAILS%"
) -> dict[str, Any]:
    """A ``body_format`` rendering ``google.rpc.Status`` JSON with google.rpc.Code ``code``,
    the local reply's text as ``message``, ``details`` then an ErrorInfo with ``reason``."""
    return {
        "json_format": {
            "code": code,
            "message": "%LOCAL_REPLY_BODY%",
            "details": [*details, _error_info(reason)],
        },
        "content_type": "application/json",
    }


def _header(name: str, value: str) -> list[dict[str, Any]]:
    return [
        {"header": {"key": name, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
    ]


def grpc_status_details(code: int, reason: str, message: str) -> str:
    """The ``grpc-status-details-bin`` value of an edge reply: base64 (RFC 4648 §4) of a
    serialized ``google.rpc.Status`` with ``code``, ``message`` and one ErrorInfo
    (``reason``, domain ``agora.local``)."""
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN))
    status = status_pb2.Status(code=code, message=message, details=[info])
    return base64.b64encode(status.SerializeToString()).decode("ascii")


def _grpc_headers(code: int, reason: str, message: str) -> list[dict[str, Any]]:
    return [
        *_header("grpc-status", str(code)),
        *_header("grpc-status-details-bin", grpc_status_details(code, reason, message)),
    ]


def _native(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"and_filter": {"filters": [_NATIVE_GRPC, *filters]}}


def _www_authenticate(value: str) -> list[dict[str, Any]]:
    return _header("www-authenticate", value)


def local_reply_config(*, max_request_bytes: int) -> dict[str, Any]:
    """The HTTP connection manager's ``local_reply_config`` (see the module docstring)."""
    plain = {"text_format_source": {"inline_string": "%LOCAL_REPLY_BODY%"}}
    jwt_denied = _cel(f"response.code_details.startsWith('{_JWT_DENIED}')")
    jwks_failed = _cel(f"response.code_details == '{JWKS_FETCH_FAILED}'")
    retry_after = _header("retry-after", str(RETRY_AFTER_SECONDS))
    unknown_field = {
        "@type": f"{_TYPE}BadRequest",
        "fieldViolations": [
            {
                "field": f"%DYNAMIC_METADATA({STRICT_JSON_METADATA}:field)%",
                "description": "%LOCAL_REPLY_BODY%",
            }
        ],
    }
    strict_reason = f"%DYNAMIC_METADATA({STRICT_JSON_METADATA}:reason)%"
    jwks_down = (14, "jwks_unavailable", "the access token cannot be checked now")
    token = (16, "invalid_token", "the access token is missing or invalid")
    mappers: list[dict[str, Any]] = [
        {
            "filter": _native(jwks_failed),
            "status_code": 503,
            "headers_to_add": [*retry_after, *_grpc_headers(*jwks_down)],
            "body_format_override": plain,
        },
        {
            "filter": _native(jwt_denied),
            "status_code": 401,
            "headers_to_add": _grpc_headers(*token),
            "body_format_override": plain,
        },
        *(
            {
                "filter": _native(_status_filter(status)),
                "headers_to_add": [*_grpc_headers(*reply), *(retry_after if status == 503 else [])],
                "body_format_override": plain,
            }
            for status, reply in NATIVE_GRPC_REPLIES.items()
        ),
        {"filter": _NATIVE_GRPC, "body_format_override": plain},
        *(
            {
                "filter": {"and_filter": {"filters": [_TRANSCODED, _status_filter(status)]}},
                "headers_to_add": _grpc_headers(*NATIVE_GRPC_REPLIES[status])[1:],
                "body_format_override": status_format(GRPC_CODE_BY_HTTP_STATUS[status]),
            }
            for status in (408, 504)
        ),
        {
            "filter": jwks_failed,
            "status_code": 503,
            "headers_to_add": retry_after,
            "body": {
                "inline_string": "the access token cannot be checked now: the JWKS is unavailable"
            },
            "body_format_override": status_format(14),
        },
        {
            "filter": _cel(f"response.code_details == '{_JWT_MISSING}'"),
            "headers_to_add": _www_authenticate("Bearer"),
            "status_code": 401,
            "body_format_override": status_format(16),
        },
        {
            "filter": jwt_denied,
            "headers_to_add": _www_authenticate('Bearer error="invalid_token"'),
            "status_code": 401,
            "body_format_override": status_format(16),
        },
        {
            "filter": {"and_filter": {"filters": [_strict_json("reason"), _status_filter(404)]}},
            "body_format_override": status_format(5, reason=strict_reason),
        },
        {
            "filter": _strict_json("field"),
            "body_format_override": status_format(3, unknown_field, reason=strict_reason),
        },
        {
            "filter": _strict_json("reason"),
            "body_format_override": status_format(3, reason=strict_reason),
        },
        {
            "filter": {"response_flag_filter": {"flags": ["NR"]}},
            "body": {"inline_string": "no route for this method and path"},
            "body_format_override": status_format(5),
        },
        {
            "filter": _status_filter(413),
            "body": {"inline_string": f"request body is larger than {max_request_bytes} bytes"},
            "body_format_override": status_format(8),
        },
    ]
    mappers += [
        {
            "filter": _status_filter(status),
            "body_format_override": status_format(code),
            **({"headers_to_add": retry_after} if status == 503 else {}),
        }
        for status, code in GRPC_CODE_BY_HTTP_STATUS.items()
        if status != 413
    ]
    return {"mappers": mappers, "body_format": status_format(UNKNOWN)}
