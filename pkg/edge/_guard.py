"""The guard: the edge's first, headers-only check of every request (``edge_guard.lua``).

gRPC core refuses metadata it cannot parse (a malformed ``grpc-timeout`` or ``grpc-encoding``,
bad base64 in a ``-bin`` header, a ``:method`` other than POST, names or values outside
gRPC's alphabet) and, once one header block failed on an HTTP/2 connection, may fail later
well-formed requests on it too (grpc/grpc#34721). The edge multiplexes every client's
requests onto a few connections per service, so the guard makes sure no such metadata is
ever forwarded, whichever spelling carries it: it refuses (400, gRPC INVALID_ARGUMENT) what
it cannot repair, drops the gRPC control headers a client may not set, and the trailers
filter drops request trailers, which no Agora RPC takes. See ``edge_guard.lua`` for the
rules, ``_classify`` for which requests are native gRPC.

It also resolves each request to its RPC once: HTTP/JSON requests must match a transcoded
rule of the contracts (anything else is 404, so a spelling the transcoder would route but no
rule checks cannot slip past the strict checks), and every request leaves with
``RPC_HEADER`` naming its gRPC path, on which the rate limit and jwt_authn filters that run
next key, before any body is read or transcoded.
"""

from __future__ import annotations

from typing import Any

from ._classify import GRPC_CONTENT_TYPE
from ._lua import lua_filter, lua_literal, render_lua
from ._strict_json import StrictJsonSchema

GUARD_FILTER = "agora.edge.guard"
TRAILERS_FILTER = "agora.edge.no_request_trailers"
RPC_HEADER = "x-agora-rpc"
_HEADER_MUTATION = (
    "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"
)


def guard_source(schema: StrictJsonSchema) -> str:
    """The guard's Lua source: ``edge_guard.lua`` with the rules of ``schema``."""
    rows = [
        (r.verb, r.pattern, {name: 1 for name in r.bound}, int(r.any_query), r.rpc)
        for r in schema.rules
    ]
    rules = "{\n" + "".join(f"  {lua_literal(row)},\n" for row in rows) + "}"
    return render_lua(
        "edge_guard.lua",
        {
            "RULES": rules,
            "GRPC_CONTENT_TYPE": lua_literal(GRPC_CONTENT_TYPE),
            "RPC_HEADER": lua_literal(RPC_HEADER),
        },
    )


def guard_filter(schema: StrictJsonSchema) -> dict[str, Any]:
    """The guard as an HTTP filter; it must come first but for CORS (preflights)."""
    return lua_filter(GUARD_FILTER, "edge_guard", guard_source(schema))


def no_request_trailers_filter() -> dict[str, Any]:
    """``header_mutation`` removing every request trailer (RFC 9110 §6.5): gRPC clients send
    none and HTTP/JSON bodies are complete without, so none reaches a service."""
    return {
        "name": TRAILERS_FILTER,
        "typed_config": {
            "@type": _HEADER_MUTATION,
            "mutations": {
                "request_trailers_mutations": [
                    {"remove_on_match": {"key_matcher": {"safe_regex": {"regex": ".*"}}}}
                ]
            },
        },
    }
