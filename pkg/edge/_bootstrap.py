"""Assemble the Envoy v3 bootstrap of the edge and write it as YAML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pkg.pki import write_atomic

from ._clusters import jwks_cluster, service_cluster
from ._contracts import Contracts, EdgeConfigError, load_contracts
from ._cors import (
    CORS_FILTER,
    catch_all_route,
    cors_filter,
    cors_policy,
    no_route_cluster,
    vary_origin_filter,
)
from ._filters import (
    buffer_filter,
    http_connection_manager,
    jwt_filter,
    rate_limit_filter,
    router_filter,
    transcoder_filter,
)
from ._guard import guard_filter, no_request_trailers_filter
from ._routes import JWKS_PATH, REFLECTION_CLUSTER, envoy_routes
from ._sds import EDGE_CERT_SDS, SDS_FOLDER, sds_secret_config, tls_certificate, write_sds_files
from ._strict_json import strict_body_filter, strict_json_schema

EDGE_LISTENER = "edge_https"
JWKS_LISTENER = "edge_jwks"
_JWKS_SERVICE = "agora.auth.v1.AuthService"
_JWKS_RPC = f"/{_JWKS_SERVICE}/GetJwks"
_CONNECTIONS_MONITOR = (
    "type.googleapis.com/envoy.extensions.resource_monitors."
    "downstream_connections.v3.DownstreamConnectionsConfig"
)
_DOWNSTREAM_TLS = (
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
)


ADMIN_SOCKET_MODE = 0o600


def _address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _admin_address(admin: tuple[str, int] | Path) -> dict[str, Any]:
    if isinstance(admin, Path):
        return {"pipe": {"path": str(admin), "mode": ADMIN_SOCKET_MODE}}
    return _address(*admin)


def _downstream_tls(cert_dir: Path, sds_dir: Path | None) -> dict[str, Any]:
    common: dict[str, Any] = {
        "alpn_protocols": ["h2", "http/1.1"],
        "tls_params": {"tls_minimum_protocol_version": "TLSv1_2"},
    }
    if sds_dir is None:
        common["tls_certificates"] = [tls_certificate(cert_dir)]
    else:
        common["tls_certificate_sds_secret_configs"] = [sds_secret_config(EDGE_CERT_SDS, sds_dir)]
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {"@type": _DOWNSTREAM_TLS, "common_tls_context": common},
    }


def _edge_listener(
    contracts: Contracts,
    listen: tuple[str, int],
    cert_dir: Path,
    sds_dir: Path | None,
    jwt: dict[str, Any],
    cors_origins: Sequence[str],
) -> dict[str, Any]:
    schema = strict_json_schema(contracts)
    filters = [
        cors_filter(),
        guard_filter(schema),
        no_request_trailers_filter(),
        rate_limit_filter(contracts),
        jwt,
        buffer_filter(),
        strict_body_filter(schema),
        transcoder_filter(contracts.descriptor_set, contracts.transcoded_services),
        router_filter(),
    ]
    manager = http_connection_manager("edge", envoy_routes(contracts), filters)
    if cors_origins:
        virtual_host = manager["typed_config"]["route_config"]["virtual_hosts"][0]
        virtual_host["routes"].append(catch_all_route())
        virtual_host["typed_per_filter_config"] = {
            CORS_FILTER: cors_policy(contracts, cors_origins)
        }
        manager["typed_config"]["http_filters"].insert(0, vary_origin_filter())
    return {
        "name": EDGE_LISTENER,
        "address": _address(*listen),
        "per_connection_buffer_limit_bytes": 1024 * 1024,
        "filter_chains": [
            {
                "transport_socket": _downstream_tls(cert_dir, sds_dir),
                "filters": [manager],
            }
        ],
    }


def _jwks_listener(contracts: Contracts, jwks_listen: tuple[str, int]) -> dict[str, Any]:
    try:
        method = contracts.method(_JWKS_RPC)
    except KeyError:
        raise EdgeConfigError(f"the contracts lack {_JWKS_RPC}, which serves the JWKS") from None
    route = {
        "match": {"path": method.grpc_path, "grpc": {}},
        "route": {"cluster": method.domain, "timeout": "5s"},
    }
    filters = [transcoder_filter(contracts.descriptor_set, [_JWKS_SERVICE]), router_filter()]
    return {
        "name": JWKS_LISTENER,
        "address": _address(*jwks_listen),
        "filter_chains": [{"filters": [http_connection_manager("jwks", [route], filters)]}],
    }


def render_envoy_config(
    *,
    descriptor_set: Path,
    cert_dir: Path,
    endpoints: Mapping[str, Sequence[tuple[str, int]]],
    listen: tuple[str, int] = ("127.0.0.1", 8443),
    admin: tuple[str, int] | Path = ("127.0.0.1", 9901),
    jwks_listen: tuple[str, int] = ("127.0.0.1", 9902),
    jwt_issuer: str = "https://auth.agora.local",
    jwt_audience: str = "agora",
    sds_dir: Path | None = None,
    cors_origins: Sequence[str] = (),
) -> dict[str, Any]:
    """The edge's Envoy v3 bootstrap as a plain dict (YAML/JSON-ready).

    ``descriptor_set`` is ``gen/agora.binpb``; ``cert_dir`` holds ``edge.crt``, ``edge.key``
    and ``intermediate_ca.crt`` (paths are written as given, so pass an absolute one); ``endpoints``
    maps a service name (``auth``, ``user``) to its ``(host, port)`` gRPC addresses.
    Listeners: ``edge_https`` on ``listen`` (TLS; HTTP/1.1, HTTP/2, gRPC) and ``edge_jwks``
    on ``jwks_listen`` (plain HTTP, only ``GET /.well-known/jwks.json``). Clusters: one per
    endpoints key plus ``jwks``. Admin on ``admin``: a ``(host, port)`` that should stay
    on loopback (any local user can reach it), or the ``Path`` of a unix socket that Envoy
    creates with mode 0600 (``config.core.v3.Pipe``), so only Envoy's user can, as
    ``agora up`` does.

    Certificates: with ``sds_dir`` (absolute; ``write_envoy_config`` passes
    ``<config dir>/sds`` and writes the files there), the edge certificate and the trust
    bundle are filesystem SDS secrets that Envoy reloads when ``pkg.pki`` renews the files
    (see ``_sds``); without it the files are named inline and read once at start.

    CORS: ``cors_origins`` are the exact origins (``https://app.example.com``) whose browser
    scripts may call the API (see ``_cors``); none (the default) means no CORS headers at all.

    Raises ``EdgeConfigError`` for a malformed policy, a routed service (or ``auth``, which
    serves the JWKS and reflection) with no endpoints, or a CORS origin that is not
    ``scheme://host[:port]``, and ``OSError`` if a file is unreadable.
    """
    contracts = load_contracts(descriptor_set)
    needed = {m.domain for m in contracts.methods if m.routed} | {REFLECTION_CLUSTER}
    missing = sorted(name for name in needed if not endpoints.get(name))
    if missing:
        raise EdgeConfigError(f"no endpoints for routed services: {', '.join(missing)}")
    jwks_uri = f"http://{jwks_listen[0]}:{jwks_listen[1]}{JWKS_PATH}"
    jwt = jwt_filter(contracts, issuer=jwt_issuer, audience=jwt_audience, jwks_uri=jwks_uri)
    clusters = [
        service_cluster(name, list(addresses), cert_dir, sds_dir)
        for name, addresses in sorted(endpoints.items())
    ]
    return {
        "node": {"id": "agora-edge", "cluster": "agora-edge"},
        "admin": {"address": _admin_address(admin)},
        "static_resources": {
            "listeners": [
                _edge_listener(contracts, listen, cert_dir, sds_dir, jwt, cors_origins),
                _jwks_listener(contracts, jwks_listen),
            ],
            "clusters": [
                *clusters,
                jwks_cluster(jwks_listen),
                *([no_route_cluster()] if cors_origins else []),
            ],
        },
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": _CONNECTIONS_MONITOR,
                        "max_active_downstream_connections": 10000,
                    },
                }
            ]
        },
    }


def write_envoy_config(path: Path, **kwargs: Any) -> Path:
    """Render the bootstrap (same keyword arguments as ``render_envoy_config``) to ``path``.

    The certificates are served by filesystem SDS from ``sds_dir``, by default
    ``<path's folder>/sds`` (absolute; ``None`` names the files inline instead):
    ``edge_cert.yaml`` and ``trusted_ca.yaml`` are written there first, so a renewal in
    ``cert_dir`` takes effect without restarting Envoy. Every file is written atomically
    (``pkg.pki.write_atomic``, mode 0644: no secret inside), creating parent folders;
    returns ``path``. Raises what ``render_envoy_config`` raises, and ``OSError`` on write
    failure.
    """
    kwargs.setdefault("sds_dir", path.parent.absolute() / SDS_FOLDER)
    config = render_envoy_config(**kwargs)
    if kwargs["sds_dir"] is not None:
        write_sds_files(kwargs["sds_dir"], kwargs["cert_dir"])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, yaml.safe_dump(config, sort_keys=False, width=120).encode(), mode=0o644)
    return path
