"""Keeping the mesh's certificate directory filled with fresh workload certificates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from pkg.pki._files import CERT_MODE, KEY_MODE, make_private_dir, write_atomic, write_if_changed
from pkg.pki._identity import identity_from_certificate
from pkg.pki._port import CertificateAuthority

MESH_DNS_NAMES = ("localhost",)
MESH_IP_ADDRESSES = ("127.0.0.1",)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _needs_issue(
    name: str, cert_dir: Path, intermediate: x509.Certificate, now: datetime, renew_fraction: float
) -> bool:
    try:
        leaf = x509.load_pem_x509_certificate((cert_dir / f"{name}.crt").read_bytes())
        key = serialization.load_pem_private_key(
            (cert_dir / f"{name}.key").read_bytes(), password=None
        )
        leaf.verify_directly_issued_by(intermediate)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return True
    if key.public_key() != leaf.public_key() or identity_from_certificate(leaf) != name:
        return True
    total = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    remaining = leaf.not_valid_after_utc - now
    return remaining < total * renew_fraction


def ensure_mesh_certificates(
    ca: CertificateAuthority,
    cert_dir: Path,
    names: Sequence[str],
    *,
    lifetime: timedelta = timedelta(hours=24),
    renew_fraction: float = 1 / 3,
    clock: Callable[[], datetime] = _utcnow,
    force: bool = False,
) -> list[str]:
    """Make ``cert_dir`` hold the trust bundle and a valid certificate for every name.

    Writes ``root_ca.crt`` and ``intermediate_ca.crt`` (only when their content changed)
    and, per workload, ``<name>.crt`` (leaf then intermediate, PEM) and ``<name>.key``
    (PKCS#8 PEM, mode 0600); ``cert_dir`` is created with mode 0700. A leaf gets DNS SANs
    ``<name>`` and ``localhost``, IP SAN ``127.0.0.1``, and is (re)issued only when its files
    are missing or unreadable, its key does not match, it is not signed by the CA's current
    intermediate, it lacks the identity ``spiffe://agora.local/<name>``, or less than
    ``renew_fraction`` of its validity period (RFC 5280 notBefore..notAfter) remains at
    ``clock()``; with ``force`` every leaf is reissued now (a new key and serial; the root
    and intermediate stay). The key is replaced before the certificate, each atomically; a reader
    racing a renewal may see a new key with the old certificate and should retry.

    Returns:
        The names whose certificates were (re)issued, in the order of ``names``.

    Raises:
        ValueError: a name is not a valid SPIFFE path segment, or ``renew_fraction`` is
            outside [0, 1).
        OSError: ``cert_dir`` cannot be created or written.
    """
    if not 0 <= renew_fraction < 1:
        raise ValueError(f"renew_fraction must be in [0, 1), got {renew_fraction}")
    make_private_dir(cert_dir)
    intermediate_pem = ca.intermediate_pem()
    intermediate = x509.load_pem_x509_certificate(intermediate_pem)
    write_if_changed(cert_dir / "root_ca.crt", ca.root_pem(), mode=CERT_MODE)
    write_if_changed(cert_dir / "intermediate_ca.crt", intermediate_pem, mode=CERT_MODE)
    now = clock()
    issued: list[str] = []
    for name in names:
        if not force and not _needs_issue(name, cert_dir, intermediate, now, renew_fraction):
            continue
        cert = ca.issue(
            name,
            dns_names=(name, *MESH_DNS_NAMES),
            ip_addresses=MESH_IP_ADDRESSES,
            lifetime=lifetime,
        )
        write_atomic(cert_dir / f"{name}.key", cert.key_pem, mode=KEY_MODE)
        write_atomic(cert_dir / f"{name}.crt", cert.cert_chain_pem, mode=CERT_MODE)
        issued.append(name)
    return issued


def seconds_until_expiry(cert_path: Path, *, clock: Callable[[], datetime] = _utcnow) -> float:
    """Return seconds from ``clock()`` until the notAfter of the first certificate in a PEM file.

    Negative once the certificate has expired. Meant for a time-to-expiry gauge.

    Raises:
        OSError: the file cannot be read.
        ValueError: it holds no parseable PEM certificate.
    """
    leaf = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return (leaf.not_valid_after_utc - clock()).total_seconds()
