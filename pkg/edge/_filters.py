"""HTTP filters and the HTTP connection manager of the edge's listeners."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from ._contracts import Contracts
from ._guard import RPC_HEADER
from ._local_reply import local_reply_config
from ._routes import BUFFER_FILTER, RATE_LIMIT_KEY, rate_limit_descriptor

JWT_FILTER = "envoy.filters.http.jwt_authn"
RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
_RATE_LIMIT = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
_ALWAYS = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
MAX_REQUEST_BYTES = 1024 * 1024
MAX_REQUEST_HEADERS_KB = 16
"""The edge's cap on a request's headers (431 above it), below the services' own
``pkg.server._server.MAX_METADATA_BYTES``, so gRPC core never refuses a forwarded header
block for its size."""
JWKS_CLUSTER = "jwks"
JWT_PROVIDER = "agora"
_TYPES = "type.googleapis.com/envoy.extensions.filters"
_HCM = f"{_TYPES}.network.http_connection_manager.v3.HttpConnectionManager"


def transcoder_filter(descriptor_set: bytes, services: Sequence[str]) -> dict[str, Any]:
    """``grpc_json_transcoder``: strict HTTP/JSON to gRPC, gRPC errors as JSON ``Status``.

    Unknown paths (404) and query parameters (400) are rejected and malformed JSON fails
    the parse (400). Envoy has no switch to reject unknown JSON body fields: it drops them
    (envoyproxy/envoy#46623), so the generated Lua filter of ``_strict_json`` runs before it
    and answers 400 for them. A ``+`` in a query value is a space (form encoding). JSON
    uses lowerCamelCase names (proto3 JSON mapping) and omits default values.
    """
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": f"{_TYPES}.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
            "proto_descriptor_bin": base64.b64encode(descriptor_set).decode("ascii"),
            "services": list(services),
            "convert_grpc_status": True,
            # `?filter=price+%3E+5` is `price > 5`, as browsers, httpx and curl --data-urlencode
            # write a space in a query (application/x-www-form-urlencoded); a literal `+` is `%2B`
            "query_param_unescape_plus": True,
            "request_validation_options": {
                "reject_unknown_method": True,
                "reject_unknown_query_parameters": True,
                "reject_binding_body_field_collisions": True,
            },
            "print_options": {
                "add_whitespace": False,
                "always_print_primitive_fields": False,
                "always_print_enums_as_ints": False,
                "preserve_proto_field_names": False,
            },
        },
    }


def buffer_filter() -> dict[str, Any]:
    """``buffer``: a request body over ``MAX_REQUEST_BYTES`` (1 MiB) gets 413.

    It runs first, before transcoding, so the cap applies to the JSON as sent; routes of
    client-streaming RPCs and server reflection switch it off (see ``_routes``).
    """
    return {
        "name": BUFFER_FILTER,
        "typed_config": {
            "@type": f"{_TYPES}.http.buffer.v3.Buffer",
            "max_request_bytes": MAX_REQUEST_BYTES,
        },
    }


def jwt_filter(
    contracts: Contracts, *, issuer: str, audience: str, jwks_uri: str
) -> dict[str, Any]:
    """``jwt_authn`` with provider ``agora``, required for every routed RPC whose rule is
    ``authenticated`` or ``roles``: one rule per RPC matching the guard's ``RPC_HEADER``, so
    the token is checked on the request's headers, before its body is read or transcoded, for
    HTTP/JSON and gRPC alike. Requests of other RPCs need no token.

    The JWKS (RFC 7517) is fetched from ``jwks_uri`` through cluster ``jwks`` before the
    listeners start (``async_fetch.fast_listener`` false: Envoy's init manager holds the
    listeners until the first fetch has succeeded or failed, its retries included), cached
    for 5 minutes and refetched in the background, every 2 s while fetches fail. A request
    that needs a token while no JWKS could be fetched gets 503 UNAVAILABLE with
    ``Retry-After`` (details ``jwt_authn_access_denied{Jwks_remote_fetch_is_failed}``), not a
    401 that would blame the token; the other rejections (401, and 403 for a wrong ``aud``)
    all become 401 UNAUTHENTICATED with ``WWW-Authenticate`` per RFC 6750 in
    ``_local_reply``.
    """
    return {
        "name": JWT_FILTER,
        "typed_config": {
            "@type": f"{_TYPES}.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                JWT_PROVIDER: {
                    "issuer": issuer,
                    "audiences": [audience],
                    "from_headers": [{"name": "Authorization", "value_prefix": "Bearer "}],
                    "forward": True,
                    "remote_jwks": {
                        "http_uri": {"uri": jwks_uri, "cluster": JWKS_CLUSTER, "timeout": "2s"},
                        "cache_duration": "300s",
                        "async_fetch": {"fast_listener": False, "failed_refetch_duration": "2s"},
                        "retry_policy": {
                            "num_retries": 3,
                            "retry_back_off": {"base_interval": "0.2s", "max_interval": "2s"},
                        },
                    },
                }
            },
            "rules": [
                {
                    "match": {
                        "prefix": "/",
                        "headers": [
                            {"name": RPC_HEADER, "string_match": {"exact": method.grpc_path}}
                        ],
                    },
                    "requires": {"provider_name": JWT_PROVIDER},
                }
                for method in contracts.methods
                if method.routed and method.requires_jwt
            ],
        },
    }


def router_filter() -> dict[str, Any]:
    """The terminal ``router`` filter."""
    return {
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": f"{_TYPES}.http.router.v3.Router"},
    }


def rate_limit_filter(contracts: Contracts) -> dict[str, Any]:
    """The local rate-limit filter: one token bucket per RPC whose contract sets a rate
    (``(agora.policy.v1.route).requests_per_second``, see ``_routes.rate_limit_descriptor``),
    found by the descriptor ``rpc`` = the guard's ``RPC_HEADER``. Requests of other RPCs
    draw on no bucket (the default bucket is not consumed when a descriptor matched, and is
    large enough never to limit)."""
    descriptors = [
        descriptor
        for method in contracts.methods
        if method.routed
        if (descriptor := rate_limit_descriptor(method)) is not None
    ]
    return {
        "name": RATE_LIMIT_FILTER,
        "typed_config": {
            "@type": _RATE_LIMIT,
            "stat_prefix": "edge_rate_limit",
            "token_bucket": {
                "max_tokens": 1_000_000_000,
                "tokens_per_fill": 1_000_000_000,
                "fill_interval": "1s",
            },
            "filter_enabled": {"runtime_key": "edge_rate_limit_enabled", **_ALWAYS},
            "filter_enforced": {"runtime_key": "edge_rate_limit_enforced", **_ALWAYS},
            "always_consume_default_token_bucket": False,
            "rate_limited_as_resource_exhausted": True,
            "rate_limits": [
                {
                    "actions": [
                        {
                            "request_headers": {
                                "header_name": RPC_HEADER,
                                "descriptor_key": RATE_LIMIT_KEY,
                            }
                        }
                    ]
                }
            ],
            "descriptors": descriptors,
        },
    }


def http_connection_manager(
    stat_prefix: str, routes: list[dict[str, Any]], http_filters: list[dict[str, Any]]
) -> dict[str, Any]:
    """An HTTP connection manager (HTTP/1.1 and HTTP/2) whose own replies are
    ``google.rpc.Status`` JSON like the services' errors (see ``_local_reply``).

    It generates ``x-request-id`` (and returns it), and sets ``x-forwarded-for`` from the
    peer address (``use_remote_address``) so upstreams see the real client address. Paths are
    normalised once, before any filter or route sees them (RFC 3986 §6 dot segments, merged
    slashes; an escaped ``/`` or ``\\`` is refused with 400); request headers are capped at
    ``MAX_REQUEST_HEADERS_KB``.
    """
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": _HCM,
            "stat_prefix": stat_prefix,
            "codec_type": "AUTO",
            "use_remote_address": True,
            "generate_request_id": True,
            "always_set_request_id_in_response": True,
            "normalize_path": True,
            "merge_slashes": True,
            "path_with_escaped_slashes_action": "REJECT_REQUEST",
            "max_request_headers_kb": MAX_REQUEST_HEADERS_KB,
            "request_headers_timeout": "10s",
            "stream_idle_timeout": "300s",
            "common_http_protocol_options": {
                "idle_timeout": "300s",
                "headers_with_underscores_action": "REJECT_REQUEST",
            },
            "http2_protocol_options": {"max_concurrent_streams": 100},
            "local_reply_config": local_reply_config(max_request_bytes=MAX_REQUEST_BYTES),
            "route_config": {
                "name": f"{stat_prefix}_routes",
                "virtual_hosts": [
                    {"name": stat_prefix, "domains": ["*"], "routes": routes},
                ],
            },
            "http_filters": http_filters,
        },
    }
