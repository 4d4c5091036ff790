"""gRPC credentials and channels for mutual TLS inside the mesh.

Every workload presents ``<cert_dir>/<name>.crt`` (leaf + intermediate) and trusts
``<cert_dir>/root_ca.crt``; servers require client certificates.  A client names the
service it expects, and the channel checks the server certificate's DNS SAN against that
name (``grpc.ssl_target_name_override``), so a channel to ``user`` talks only to a
certificate issued for ``user``.  Targets may list several addresses
(``ipv4:127.0.0.1:50052,127.0.0.1:50062``); calls are balanced ``round_robin``.
"""

from __future__ import annotations

import json
from pathlib import Path

import grpc

_SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})


def _read(cert_dir: Path, name: str) -> tuple[bytes, bytes, bytes]:
    root = (cert_dir / "root_ca.crt").read_bytes()
    chain = (cert_dir / f"{name}.crt").read_bytes()
    key = (cert_dir / f"{name}.key").read_bytes()
    return root, chain, key


def server_credentials(cert_dir: Path, name: str) -> grpc.ServerCredentials:
    """mTLS server credentials for workload ``name``; ``OSError`` if a file is missing."""
    root, chain, key = _read(cert_dir, name)
    return grpc.ssl_server_credentials([(key, chain)], root_certificates=root,
                                       require_client_auth=True)


def channel_credentials(cert_dir: Path, name: str) -> grpc.ChannelCredentials:
    """mTLS client credentials presenting workload ``name``'s certificate."""
    root, chain, key = _read(cert_dir, name)
    return grpc.ssl_channel_credentials(root_certificates=root, private_key=key,
                                        certificate_chain=chain)


def secure_channel(cert_dir: Path, identity: str, target: str, server: str) -> grpc.aio.Channel:
    """An mTLS ``grpc.aio`` channel from ``identity`` to service ``server`` at ``target``.

    ``target`` is any gRPC target (``127.0.0.1:50052``, ``ipv4:a:p,b:q``).  The server's
    certificate must carry the DNS SAN ``server``.  The caller closes the channel.
    """
    return grpc.aio.secure_channel(
        target, channel_credentials(cert_dir, identity),
        options=[("grpc.ssl_target_name_override", server),
                 ("grpc.service_config", _SERVICE_CONFIG),
                 ("grpc.enable_retries", 1)],
    )
