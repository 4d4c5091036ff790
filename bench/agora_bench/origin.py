"""The TLS-origination hop: a one-worker Envoy ``tcp_proxy`` that takes h2c from h2load
and speaks mTLS (ALPN h2) to a server, since h2load cannot present a client certificate.

HTTP/2 frames pass through unparsed; Envoy only originates the TLS session, with the
same upstream TLS context as the edge's clusters (``pkg.edge.upstream_tls_context``):
it presents ``<client>.crt`` from a mesh-style certificate directory and accepts only a
server certificate under ``root_ca.crt`` with URI SAN ``spiffe://agora.local/<server>``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from pkg.edge import upstream_tls_context
from pkg.runtime import free_port

from .processes import Processes, wait_port

_TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
_UPSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"


def origin_config(
    listen: int, upstream: int, cert_dir: Path, server: str, client: str
) -> dict[str, Any]:
    """Envoy bootstrap: h2c in on 127.0.0.1:``listen``, mTLS out to 127.0.0.1:``upstream``.

    SNI ``server``; certificates as described in the module docstring.
    """
    address = {"socket_address": {"address": "127.0.0.1", "port_value": upstream}}
    return {
        "static_resources": {
            "listeners": [
                {
                    "name": "origin",
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": listen}},
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.tcp_proxy",
                                    "typed_config": {
                                        "@type": _TCP_PROXY,
                                        "stat_prefix": "origin",
                                        "cluster": "target",
                                    },
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": [
                {
                    "name": "target",
                    "type": "STATIC",
                    "connect_timeout": "5s",
                    "load_assignment": {
                        "cluster_name": "target",
                        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
                    },
                    "transport_socket": {
                        "name": "envoy.transport_sockets.tls",
                        "typed_config": {
                            "@type": _UPSTREAM_TLS,
                            "sni": server,
                            "common_tls_context": upstream_tls_context(
                                server, cert_dir, None, client=client
                            ),
                        },
                    },
                }
            ],
        }
    }


def start_origin(
    procs: Processes,
    envoy: str,
    work: Path,
    name: str,
    upstream: int,
    cert_dir: Path,
    server: str,
    client: str,
) -> tuple[int, subprocess.Popen[bytes]]:
    """Start a TLS-origination Envoy (one worker) in front of ``upstream``: (port, process).

    Files ``origin-<name>.json`` (its bootstrap) and ``.log`` go to ``work``. Raises
    ``RuntimeError`` when it does not listen within 60 s (it is stopped then).
    """
    port = free_port()
    config = work / f"origin-{name}.json"
    config.write_text(json.dumps(origin_config(port, upstream, cert_dir, server, client), indent=1))
    log_path = work / f"origin-{name}.log"
    proc = procs.start(
        [envoy, "-c", str(config), "--concurrency", "1", "--use-dynamic-base-id", "-l", "warn"],
        log_path,
    )
    try:
        wait_port(port, proc, log_path, timeout=60)
    except RuntimeError:
        procs.stop(proc)
        raise
    return port, proc
