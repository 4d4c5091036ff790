"""Server credentials that follow certificate renewals on disk, for new handshakes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from pkg.mtls._files import CHECK_INTERVAL, IdentityFiles, Material, RenewalWatch, Stamp
from pkg.obs import get_logger

_log = get_logger("agora.mtls")


def _configuration(material: Material) -> grpc.ServerCertificateConfiguration:
    return grpc.ssl_server_certificate_configuration(
        [(material.key, material.chain)], root_certificates=material.root
    )


class CertificateFetcher:
    """The ``certificate_configuration_fetcher`` of ``grpc.dynamic_ssl_server_credentials``.

    gRPC calls it before every new connection's TLS handshake, from one of its own threads
    (also under ``grpc.aio``), and keeps its current certificate when it returns ``None``.
    So the hot path is: at most every ``check_interval`` seconds one ``stat`` per file; a new
    configuration only when the stamp changed, the read was consistent, the key matches the
    certificate and the bytes differ. A torn renewal (new key, old certificate) is retried at
    the next check. Concurrent calls never wait: one checks, the others return ``None``.
    """

    def __init__(
        self,
        files: IdentityFiles,
        stamp: Stamp,
        material: Material,
        *,
        check_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._renewals = RenewalWatch(
            files, stamp, material, check_interval=check_interval, clock=clock
        )
        self._lock = threading.Lock()

    def __call__(self) -> grpc.ServerCertificateConfiguration | None:
        if not self._lock.acquire(blocking=False):
            return None
        name = self._renewals.files.name
        try:
            material = self._renewals.poll()
            if material is None:
                return None
            configuration = _configuration(material)
        except Exception:  # gRPC would ignore it too; keep serving the current certificate
            _log.exception("certificate reload failed", extra={"identity": name})
            return None
        finally:
            self._lock.release()
        _log.info("server certificate reloaded", extra={"identity": name})
        return configuration


def server_credentials(
    cert_dir: Path, name: str, *, check_interval: float = CHECK_INTERVAL
) -> grpc.ServerCredentials:
    """mTLS server credentials for workload ``name`` that pick up renewed files.

    Presents ``<name>.crt``/``<name>.key`` and requires a client certificate issued by
    ``intermediate_ca.crt`` (the current intermediate only). New handshakes use the files
    as they are on disk, looked at no more than every ``check_interval`` seconds
    (``CertificateFetcher``); established connections keep the certificate they were opened
    with. Works with ``grpc.aio`` servers.

    Raises:
        OSError: a file is missing or unreadable.
        ValueError: the key does not match the certificate (after about a second of retries).
    """
    files = IdentityFiles(cert_dir, name)
    stamp, material = files.initial()
    fetcher = CertificateFetcher(files, stamp, material, check_interval=check_interval)
    return grpc.dynamic_ssl_server_credentials(
        _configuration(material), fetcher, require_client_authentication=True
    )
