"""The Envoy edge configuration, generated from the contracts (descriptor set).

Routes, transcoding, JWT requirements and per-route timeouts are derived from each RPC's
``google.api.http`` rule and ``(agora.policy.v1.rule)`` / ``(agora.policy.v1.route)``
options, so the edge cannot drift from the API; so is the Lua filter of the strict edge
(``strict_json_schema``: unknown, duplicate or wrongly typed JSON fields, query parameters
overriding bound fields, non-JSON bodies, client ``grpc-*`` headers). CORS origins are
configuration (``render_envoy_config(cors_origins=...)``, ``_cors``); timeouts, retries,
health checks and the JWKS start-up are described in docs/adr/0014-strict-edge-and-cors.md.
Every reply the edge makes itself is a ``google.rpc.Status`` in JSON, like the services'
errors (``_local_reply``). See
docs/adr/0005-edge-from-contracts.md. ``write_envoy_config`` also writes filesystem SDS files
(``<config dir>/sds/``) so renewed certificates are picked up without restart (``_sds``,
docs/adr/0011-certificate-reload.md).

    write_envoy_config(Path("envoy.yaml"), descriptor_set=Path("gen/agora.binpb"),
                       cert_dir=Path("/abs/certs"), endpoints={"auth": [("127.0.0.1", 50051)],
                                                               "user": [("127.0.0.1", 50052)]})
"""

from ._bootstrap import EDGE_LISTENER, JWKS_LISTENER, render_envoy_config, write_envoy_config
from ._clusters import upstream_tls_context
from ._contracts import Contracts, EdgeConfigError, HttpBinding, MethodContract, load_contracts
from ._routes import RouteEntry, route_table
from ._strict_json import StrictJsonSchema, strict_json_schema

__all__ = [
    "EDGE_LISTENER",
    "JWKS_LISTENER",
    "Contracts",
    "EdgeConfigError",
    "HttpBinding",
    "MethodContract",
    "RouteEntry",
    "StrictJsonSchema",
    "load_contracts",
    "render_envoy_config",
    "route_table",
    "strict_json_schema",
    "upstream_tls_context",
    "write_envoy_config",
]
