"""Upstream clusters: one mTLS HTTP/2 cluster per service, and the local JWKS cluster."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pkg.pki import MESH_TRUST_FILE, spiffe_id

from ._filters import JWKS_CLUSTER
from ._sds import (
    EDGE_CERT_SDS,
    TRUSTED_CA_SDS,
    sds_secret_config,
    tls_certificate,
)

_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3"
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _load_assignment(name: str, endpoints: Sequence[tuple[str, int]]) -> dict[str, Any]:
    return {
        "cluster_name": name,
        "endpoints": [
            {
                "lb_endpoints": [
                    {
                        "endpoint": {
                            "address": {"socket_address": {"address": host, "port_value": port}}
                        }
                    }
                    for host, port in endpoints
                ]
            }
        ],
    }


def upstream_tls_context(
    name: str, cert_dir: Path, sds_dir: Path | None, *, client: str = "edge"
) -> dict[str, Any]:
    """The ``CommonTlsContext`` towards service ``name``: present ``<client>.crt`` (default
    ``edge.crt``), accept only a certificate issued by ``intermediate_ca.crt`` (the current
    intermediate, ``pkg.pki.MESH_TRUST_FILE``) with URI SAN
    ``spiffe://agora.local/<name>``; ALPN ``h2``.

    With ``sds_dir`` the certificate and trust bundle come from the filesystem SDS secrets
    there (reloaded on renewal, see ``_sds``; always the edge's certificate); without it the
    files are named inline and read once at start.
    """
    san = [{"san_type": "URI", "matcher": {"exact": spiffe_id(name)}}]
    if sds_dir is None:
        return {
            "alpn_protocols": ["h2"],
            "tls_certificates": [tls_certificate(cert_dir, client)],
            "validation_context": {
                "trusted_ca": {"filename": str(cert_dir / MESH_TRUST_FILE)},
                "match_typed_subject_alt_names": san,
            },
        }
    return {
        "alpn_protocols": ["h2"],
        "tls_certificate_sds_secret_configs": [sds_secret_config(EDGE_CERT_SDS, sds_dir)],
        "combined_validation_context": {
            "default_validation_context": {"match_typed_subject_alt_names": san},
            "validation_context_sds_secret_config": sds_secret_config(TRUSTED_CA_SDS, sds_dir),
        },
    }


MAX_REQUESTS_PER_CONNECTION = 1000
MAX_CONNECTION_SECONDS = 60
"""Every edge→service HTTP/2 connection is drained and replaced after this many requests or
seconds, whichever comes first, so a connection gRPC core has stopped parsing
(grpc/grpc#34721) cannot fail requests for longer; a new one costs one TLS handshake."""

HEALTH_CHECK = {"interval": "1s", "timeout": "1s", "unhealthy_threshold": 2, "healthy_threshold": 1}
RETRY_BUDGET = {"budget_percent": {"value": 20.0}, "min_retry_concurrency": 3}


def service_cluster(
    name: str, endpoints: Sequence[tuple[str, int]], cert_dir: Path, sds_dir: Path | None = None
) -> dict[str, Any]:
    """The cluster of service ``name``: HTTP/2 over mTLS, round robin, gRPC health checks.

    Envoy presents ``edge.crt`` and accepts only a server certificate issued by the current
    intermediate (``intermediate_ca.crt``) whose URI SAN is ``spiffe://agora.local/<name>``
    (from the SDS files in ``sds_dir`` when given, see ``upstream_tls_context``).

    Health: a ``grpc.health.v1.Health`` check every second (``HEALTH_CHECK``, also while the
    cluster has no traffic), 1 s timeout; two failures take a host out (and close its
    connections), one success brings it back. Connections are bounded
    (``MAX_REQUESTS_PER_CONNECTION``, ``MAX_CONNECTION_SECONDS``). A draining worker
    (NOT_SERVING, still serving for 3 s, see ``pkg.server``) is out of rotation after at
    most ~2 s, before it stops. Outlier detection ejects a host after 5
    consecutive 5xx (or connect failures), but never more than half the hosts:
    ``max_ejection_percent`` 50 with ``always_eject_one_host`` false, so a single host is
    never ejected, and below 50 % healthy hosts Envoy's panic threshold balances over all of
    them anyway. Retries (see ``_routes.retry_policy``) draw on a budget of 20 % of the
    cluster's active requests, at least 3 at a time (``circuit_breakers...retry_budget``).
    """
    static = all(_is_ip(host) for host, _ in endpoints)
    return {
        "name": name,
        "type": "STATIC" if static else "STRICT_DNS",
        "connect_timeout": "2s",
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": _load_assignment(name, endpoints),
        "typed_extension_protocol_options": {
            _HTTP_OPTIONS: {
                "@type": f"type.googleapis.com/{_HTTP_OPTIONS}",
                "explicit_http_config": {"http2_protocol_options": {}},
                "common_http_protocol_options": {
                    "max_requests_per_connection": MAX_REQUESTS_PER_CONNECTION,
                    "max_connection_duration": f"{MAX_CONNECTION_SECONDS}s",
                },
            }
        },
        "close_connections_on_host_health_failure": True,
        "health_checks": [
            {
                **HEALTH_CHECK,
                "no_traffic_interval": HEALTH_CHECK["interval"],
                "grpc_health_check": {},
            }
        ],
        "outlier_detection": {
            "consecutive_5xx": 5,
            "interval": "10s",
            "base_ejection_time": "30s",
            "max_ejection_percent": 50,
            "always_eject_one_host": False,
        },
        "circuit_breakers": {"thresholds": [{"priority": "DEFAULT", "retry_budget": RETRY_BUDGET}]},
        "transport_socket": {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": f"{_TLS}.UpstreamTlsContext",
                "sni": name,
                "common_tls_context": upstream_tls_context(name, cert_dir, sds_dir),
            },
        },
    }


def jwks_cluster(jwks_listen: tuple[str, int]) -> dict[str, Any]:
    """Plain HTTP/1.1 cluster ``jwks`` that reaches the edge's own loopback JWKS listener."""
    return {
        "name": JWKS_CLUSTER,
        "type": "STATIC" if _is_ip(jwks_listen[0]) else "STRICT_DNS",
        "connect_timeout": "1s",
        "load_assignment": _load_assignment(JWKS_CLUSTER, [jwks_listen]),
    }
