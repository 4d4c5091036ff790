"""CORS (Fetch standard, "CORS protocol") at the edge: Envoy's ``cors`` filter and policy.

Allowed origins come from configuration (``render_envoy_config(cors_origins=...)``; ``agora up
--cors-origin`` / ``AGORA_CORS_ORIGINS``), none by default: then no response carries CORS
headers and browsers on other origins get nothing. With origins, the policy sits on the
virtual host. Envoy's CORS filter finds it through the route entry matched when it runs,
which is before the transcoder has rewritten ``/v1/...`` to a gRPC path, so a last catch-all
route for requests that are not gRPC (``prefix: /``) gives HTTP/JSON paths a route entry
there (a direct response would not do: it has no route entry). The transcoder then clears the
route cache and the request meets its RPC's route as before, or answers 404 itself; should a
request ever reach the router on the catch-all, it goes to ``NO_ROUTE_CLUSTER``, which has no
endpoints (503), never to a service.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ._classify import GRPC_CONTENT_TYPE_REGEX
from ._contracts import Contracts, EdgeConfigError

CORS_FILTER = "envoy.filters.http.cors"
ALLOW_HEADERS = ("authorization", "content-type", "x-request-id")
EXPOSE_HEADERS = ("x-request-id", "retry-after", "www-authenticate")
MAX_AGE_SECONDS = 600
_FILTERS = "type.googleapis.com/envoy.extensions.filters.http.cors.v3"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?")


def cors_filter() -> dict[str, Any]:
    """The ``cors`` HTTP filter; it acts only where a ``CorsPolicy`` applies."""
    return {"name": CORS_FILTER, "typed_config": {"@type": f"{_FILTERS}.Cors"}}


def check_origins(origins: Sequence[str]) -> tuple[str, ...]:
    """``origins`` as given, each a serialized origin (``scheme://host[:port]``, no path, no
    wildcard: RFC 6454 §6.2). Raises ``EdgeConfigError`` for anything else."""
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise EdgeConfigError(f"CORS origin {origin!r} is not scheme://host[:port]")
    return tuple(origins)


VARY_FILTER = "agora.edge.vary_origin"
_HEADER_MUTATION = (
    "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"
)


def vary_origin_filter() -> dict[str, Any]:
    """``header_mutation`` adding ``Vary: Origin`` to every response, the edge's own replies
    included; with CORS on it comes first, before the ``cors`` filter answers preflights.

    Every response then depends on the request's ``Origin`` (it carries
    ``Access-Control-Allow-Origin`` or not), so a shared cache must key on it (Fetch
    standard, "CORS protocol and HTTP caches"; the JWKS is publicly cacheable)."""
    return {
        "name": VARY_FILTER,
        "typed_config": {
            "@type": _HEADER_MUTATION,
            "mutations": {
                "response_mutations": [
                    {
                        "append": {
                            "header": {"key": "vary", "value": "Origin"},
                            "append_action": "APPEND_IF_EXISTS_OR_ADD",
                        }
                    }
                ]
            },
        },
    }


def cors_policy(contracts: Contracts, origins: Sequence[str]) -> dict[str, Any]:
    """The virtual host's ``CorsPolicy``: exactly ``origins`` (see ``check_origins``); the
    verbs of the public routes; request headers ``ALLOW_HEADERS``; ``EXPOSE_HEADERS``
    readable by scripts; preflights cached ``MAX_AGE_SECONDS``; no credentials (tokens travel
    in ``Authorization``, never in cookies)."""
    verbs = sorted(
        {
            binding.verb
            for method in contracts.methods
            if method.routed
            for binding in method.bindings
        }
    )
    return {
        "@type": f"{_FILTERS}.CorsPolicy",
        "allow_origin_string_match": [{"exact": origin} for origin in check_origins(origins)],
        "allow_methods": ", ".join(verbs),
        "allow_headers": ", ".join(ALLOW_HEADERS),
        "expose_headers": ", ".join(EXPOSE_HEADERS),
        "max_age": str(MAX_AGE_SECONDS),
        "allow_credentials": False,
    }


NO_ROUTE_CLUSTER = "edge_no_route"


def catch_all_route() -> dict[str, Any]:
    """The last route when CORS is on, for requests that are not native gRPC (see above and
    ``_classify``)."""
    return {
        "name": "cors_lookup",
        "match": {
            "prefix": "/",
            "headers": [
                {
                    "name": "content-type",
                    "string_match": {"safe_regex": {"regex": GRPC_CONTENT_TYPE_REGEX}},
                    "invert_match": True,
                    "treat_missing_header_as_empty": True,
                }
            ],
        },
        "route": {"cluster": NO_ROUTE_CLUSTER, "timeout": "1s"},
    }


def no_route_cluster() -> dict[str, Any]:
    """A cluster with no endpoints: whatever is routed there gets 503."""
    return {
        "name": NO_ROUTE_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": NO_ROUTE_CLUSTER, "endpoints": []},
    }
