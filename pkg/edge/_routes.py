"""The edge's route table, as data and as Envoy v3 ``Route`` entries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pkg.policy import Access

from ._contracts import Contracts, MethodContract, load_contracts
from ._guard import RPC_HEADER

BUFFER_FILTER = "envoy.filters.http.buffer"
RATE_LIMIT_KEY = "rpc"
REFLECTION_MAX_SECONDS = 60
REFLECTION_PREFIXES = (
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
)
REFLECTION_CLUSTER = "auth"
_FILTERS = "type.googleapis.com/envoy.extensions.filters.http"
_PER_ROUTE_BUFFER = {"@type": f"{_FILTERS}.buffer.v3.BufferPerRoute", "disabled": True}
JWKS_PATH = "/.well-known/jwks.json"
JWKS_CACHE_CONTROL = "public, max-age=300"
NO_STORE = "no-store"
NEVER_REACHED_A_SERVER = "connect-failure,refused-stream,reset-before-request"
SAFE_TO_REPEAT = "unavailable"
RETRIES = 2
_PREVIOUS_HOSTS = {
    "name": "envoy.retry_host_predicates.previous_hosts",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3."
        "PreviousHostsPredicate"
    },
}


@dataclass(frozen=True)
class RouteEntry:
    """One public HTTP binding of an RPC, as the edge serves it.

    ``verb`` and ``template`` come from ``google.api.http`` (e.g. ``GET``,
    ``/v1/{name=users/*}``); ``rpc`` is the gRPC path; ``cluster`` the upstream service;
    ``access`` and ``roles`` the ``(agora.policy.v1.rule)``; ``timeout_ms`` the edge timeout
    in milliseconds (0 means none); ``requests_per_second`` and ``burst`` the edge's token
    bucket for the RPC (0 means no limit).
    """

    verb: str
    template: str
    body: str
    rpc: str
    cluster: str
    access: Access
    roles: tuple[str, ...]
    timeout_ms: int
    requests_per_second: int = 0
    burst: int = 0

    @property
    def requires_jwt(self) -> bool:
        """Whether the edge rejects the request (401) without a valid access token."""
        return self.access in (Access.AUTHENTICATED, Access.ROLES)


def route_table(descriptor_set: Path | bytes | Contracts) -> list[RouteEntry]:
    """Every public HTTP binding, sorted by template then verb; internal RPCs are absent.

    Raises ``EdgeConfigError`` like ``load_contracts``. Useful for docs and route diffs.
    """
    contracts = (
        descriptor_set if isinstance(descriptor_set, Contracts) else load_contracts(descriptor_set)
    )
    entries = [
        RouteEntry(
            verb=binding.verb,
            template=binding.template,
            body=binding.body,
            rpc=method.grpc_path,
            cluster=method.domain,
            access=method.rule.access,
            roles=tuple(sorted(method.rule.values)),
            timeout_ms=method.effective_timeout_ms,
            requests_per_second=method.requests_per_second,
            burst=method.burst,
        )
        for method in contracts.methods
        if method.routed and method.rule is not None
        for binding in method.bindings
    ]
    return sorted(entries, key=lambda e: (e.template, e.verb))


def _seconds(milliseconds: int) -> str:
    return f"{milliseconds / 1000:g}s"


def rate_limit_descriptor(method: MethodContract) -> dict[str, Any] | None:
    """The ``LocalRateLimit`` descriptor of ``method``'s contract, or ``None`` for no limit.

    A token bucket per Envoy process (shared by its workers, and by the RPC's HTTP/JSON and
    gRPC requests: both carry the guard's ``RPC_HEADER``) holding ``burst`` tokens and refilled
    with ``requests_per_second`` every second; an empty bucket answers 429, which gRPC callers
    see as RESOURCE_EXHAUSTED.
    """
    if not method.requests_per_second:
        return None
    return {
        "entries": [{"key": RATE_LIMIT_KEY, "value": method.grpc_path}],
        "token_bucket": {
            "max_tokens": method.burst,
            "tokens_per_fill": method.requests_per_second,
            "fill_interval": "1s",
        },
    }


def retry_policy(method: MethodContract) -> dict[str, Any]:
    """The route's ``RetryPolicy``: retry only what cannot have run twice.

    Every RPC is retried (at most ``RETRIES`` times, each on another host: the
    ``previous_hosts`` predicate, up to 3 host selections) when the attempt never reached a
    server: the connection failed (``connect-failure``), the server refused the HTTP/2 stream
    (``refused-stream``, e.g. a draining worker's GOAWAY) or the stream was reset before the
    request was sent (``reset-before-request``). RPCs whose every HTTP binding is ``GET``
    (safe and idempotent, RFC 9110 §9.2) are also retried on the service's own gRPC
    ``UNAVAILABLE`` (``unavailable``). Never ``reset``, ``5xx`` or ``unavailable`` for the
    others: a POST/PATCH that may have run is not repeated. The clusters' retry budget
    (``_clusters``) caps retries at 20 % of active requests. See the router docs,
    ``x-envoy-retry-on`` / ``x-envoy-retry-grpc-on``.
    """
    retry_on = NEVER_REACHED_A_SERVER
    if method.bindings and all(binding.verb == "GET" for binding in method.bindings):
        retry_on += "," + SAFE_TO_REPEAT
    return {
        "retry_on": retry_on,
        "num_retries": RETRIES,
        "retry_host_predicate": [_PREVIOUS_HOSTS],
        "host_selection_retry_max_attempts": 3,
    }


def cache_control(method: MethodContract) -> str:
    """The ``Cache-Control`` of every response of ``method``'s route, local replies included.

    ``no-store`` (RFC 9111 §5.2.2.5) everywhere: API responses carry tokens (RFC 6749 §5.1
    requires it for token responses) or personal data. The JWKS is public and changes only
    on key rotation: ``public, max-age=300``, as long as the edge's own JWKS cache.
    """
    if any(binding.template == JWKS_PATH for binding in method.bindings):
        return JWKS_CACHE_CONTROL
    return NO_STORE


def _method_route(method: MethodContract) -> dict[str, Any]:
    timeout = _seconds(method.effective_timeout_ms)
    return {
        "name": method.grpc_path.lstrip("/"),
        "match": {
            "path": method.grpc_path,
            "grpc": {},
            "headers": [{"name": RPC_HEADER, "string_match": {"exact": method.grpc_path}}],
        },
        "route": {
            "cluster": method.domain,
            "max_stream_duration": {
                "max_stream_duration": timeout,
                "grpc_timeout_header_max": timeout,
            },
            "retry_policy": retry_policy(method),
        },
        "request_headers_to_remove": [RPC_HEADER],
        "response_headers_to_add": [
            {
                "header": {"key": "cache-control", "value": cache_control(method)},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            }
        ],
        **(
            {"typed_per_filter_config": {BUFFER_FILTER: _PER_ROUTE_BUFFER}}
            if method.client_streaming
            else {}
        ),
    }


def envoy_routes(contracts: Contracts) -> list[dict[str, Any]]:
    """Envoy ``Route`` dicts: one per routed RPC on its gRPC path, then server reflection.

    The transcoder rewrites an HTTP request's path to the gRPC path and clears the route
    cache, so native gRPC and transcoded requests meet the same route and JWT requirement.
    Routes of streaming requests (client streaming, reflection) are not buffered. Access
    tokens and rate limits are checked before routing matters (``_filters``: jwt_authn rules
    and rate-limit descriptors keyed on the guard's ``RPC_HEADER``), which the router then
    removes. A method's route also requires ``RPC_HEADER`` to name that method, so a request
    the transcoder maps to another RPC than the guard's rule did (whose token and rate limit
    were checked) has no route: 404.

    Timeouts: a route's ``max_stream_duration`` carries the contract's timeout for both
    kinds of request (the router's ``timeout`` is ignored once ``max_stream_duration`` is
    set, ``FilterUtility::finalTimeout``). The connection manager arms it when the route is
    chosen: a request without ``grpc-timeout`` (every transcoded one) gets the route
    timeout, a gRPC ``grpc-timeout`` is capped by it (``grpc_timeout_header_max``), and the
    upstream receives that deadline as ``grpc-timeout`` (a retry receives the whole route
    timeout again, which ``pkg.db`` budgets for: ADR 0025). On expiry the edge answers 504
    (gRPC ``DEADLINE_EXCEEDED``, details ``max_duration_timeout``); 0 (streaming RPCs
    without a contract timeout) means no limit beyond the client's own deadline. Reflection
    streams get at most ``REFLECTION_MAX_SECONDS`` the same way, so no client's
    ``grpc-timeout`` reaches a service unparsed on any route.
    """
    routes = [_method_route(m) for m in contracts.methods if m.routed]
    routes += [
        {
            "name": prefix.strip("/"),
            "match": {"prefix": prefix, "grpc": {}},
            "route": {
                "cluster": REFLECTION_CLUSTER,
                "max_stream_duration": {
                    "max_stream_duration": _seconds(REFLECTION_MAX_SECONDS * 1000),
                    "grpc_timeout_header_max": _seconds(REFLECTION_MAX_SECONDS * 1000),
                },
            },
            "request_headers_to_remove": [RPC_HEADER],
            "typed_per_filter_config": {BUFFER_FILTER: _PER_ROUTE_BUFFER},
        }
        for prefix in REFLECTION_PREFIXES
    ]
    return routes
