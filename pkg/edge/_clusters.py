"""Upstream clusters: one mTLS HTTP/2 cluster per service, and the local JWKS cluster."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._filters import JWKS_CLUSTER

TRUST_DOMAIN = "agora.local"
_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3"
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _load_assignment(name: str, endpoints: Sequence[tuple[str, int]]) -> dict[str, Any]:
    return {"cluster_name": name, "endpoints": [{"lb_endpoints": [
        {"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}}
        for host, port in endpoints
    ]}]}


def tls_certificate(cert_dir: Path, name: str = "edge") -> dict[str, Any]:
    """A ``TlsCertificate`` from ``<cert_dir>/<name>.crt`` (leaf + chain) and ``.key``."""
    return {"certificate_chain": {"filename": str(cert_dir / f"{name}.crt")},
            "private_key": {"filename": str(cert_dir / f"{name}.key")}}


def service_cluster(name: str, endpoints: Sequence[tuple[str, int]],
                    cert_dir: Path) -> dict[str, Any]:
    """The cluster of service ``name``: HTTP/2 over mTLS, round robin, gRPC health checks.

    Envoy presents ``edge.crt`` and accepts only a server certificate issued under
    ``root_ca.crt`` whose URI SAN is ``spiffe://agora.local/<name>``. Hosts failing the
    ``grpc.health.v1.Health`` check or returning repeated 5xx are taken out of rotation.
    """
    static = all(_is_ip(host) for host, _ in endpoints)
    return {
        "name": name,
        "type": "STATIC" if static else "STRICT_DNS",
        "connect_timeout": "2s",
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": _load_assignment(name, endpoints),
        "typed_extension_protocol_options": {_HTTP_OPTIONS: {
            "@type": f"type.googleapis.com/{_HTTP_OPTIONS}",
            "explicit_http_config": {"http2_protocol_options": {}},
        }},
        "health_checks": [{
            "timeout": "1s",
            "interval": "5s",
            "no_traffic_interval": "5s",
            "unhealthy_threshold": 2,
            "healthy_threshold": 1,
            "grpc_health_check": {},
        }],
        "outlier_detection": {
            "consecutive_5xx": 5,
            "consecutive_gateway_failure": 3,
            "interval": "10s",
            "base_ejection_time": "30s",
            "max_ejection_percent": 50,
        },
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": f"{_TLS}.UpstreamTlsContext",
            "sni": name,
            "common_tls_context": {
                "alpn_protocols": ["h2"],
                "tls_certificates": [tls_certificate(cert_dir)],
                "validation_context": {
                    "trusted_ca": {"filename": str(cert_dir / "root_ca.crt")},
                    "match_typed_subject_alt_names": [{
                        "san_type": "URI",
                        "matcher": {"exact": f"spiffe://{TRUST_DOMAIN}/{name}"},
                    }],
                },
            },
        }},
    }


def jwks_cluster(jwks_listen: tuple[str, int]) -> dict[str, Any]:
    """Plain HTTP/1.1 cluster ``jwks`` that reaches the edge's own loopback JWKS listener."""
    return {
        "name": JWKS_CLUSTER,
        "type": "STATIC" if _is_ip(jwks_listen[0]) else "STRICT_DNS",
        "connect_timeout": "1s",
        "load_assignment": _load_assignment(JWKS_CLUSTER, [jwks_listen]),
    }
