"""Keeping the mesh's certificate directory filled with fresh workload certificates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from pkg.pki._files import CERT_MODE, KEY_MODE, make_private_dir, write_atomic, write_if_changed
from pkg.pki._identity import identity_from_certificate, spiffe_id
from pkg.pki._port import CertificateAuthority

MESH_DNS_NAMES = ("localhost",)
MESH_IP_ADDRESSES = ("127.0.0.1",)

MESH_TRUST_FILE = "intermediate_ca.crt"
"""The file of a certificate directory that every mesh verifier trusts: the current
intermediate only, not the root, so that ``DevelopmentCA.rotate_intermediate`` revokes every
leaf of the previous one (docs/adr/0021-revocation-by-intermediate-rotation.md)."""


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

    Writes ``root_ca.crt`` (for clients outside the mesh) and ``intermediate_ca.crt``
    (``MESH_TRUST_FILE``, what mesh peers verify against), only when their content changed,
    and, per workload, ``<name>.crt`` (leaf then intermediate, PEM) and ``<name>.key``
    (PKCS#8 PEM, mode 0600); ``cert_dir`` is created with mode 0700. A leaf gets DNS SANs
    ``<name>`` and ``localhost``, IP SAN ``127.0.0.1``, and is (re)issued only when its files
    are missing or unreadable, its key does not match, it is not signed by the CA's current
    intermediate, it lacks the identity ``spiffe://agora.local/<name>``, or less than
    ``renew_fraction`` of its validity period (RFC 5280 notBefore..notAfter) remains at
    ``clock()``; with ``force`` every leaf is reissued now (a new key and serial; the root
    and intermediate stay, so the replaced leaves stay valid until they expire: this is a
    renewal, not a revocation). The leaves are written before ``intermediate_ca.crt``, and
    each key before its certificate, each atomically; a reader racing a renewal may see a
    new key with the old certificate, or a leaf not issued by the trust file, and should
    retry (``pkg.mtls`` does).

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
    write_if_changed(cert_dir / MESH_TRUST_FILE, intermediate_pem, mode=CERT_MODE)
    return issued


def ensure_identity_certificates(
    ca: CertificateAuthority,
    certs_root: Path,
    names: Sequence[str],
    **options: Any,
) -> list[str]:
    """``ensure_mesh_certificates`` with one directory per identity: ``<certs_root>/<name>/``.

    Each directory holds only ``root_ca.crt``, ``intermediate_ca.crt`` and that workload's
    ``<name>.crt``/``<name>.key``, so a container that mounts ``<certs_root>/<name>`` as its
    certificate directory sees no other workload's private key (Docker Compose, one volume
    per identity). ``options`` are those of ``ensure_mesh_certificates`` (``lifetime``,
    ``renew_fraction``, ``clock``, ``force``).

    Returns:
        The names whose certificates were (re)issued, in the order of ``names``.

    Raises:
        ValueError: a name is not a valid SPIFFE path segment (checked before any write).
        OSError: a directory cannot be created or written.
    """
    for name in names:
        spiffe_id(name)
    issued: list[str] = []
    for name in names:
        issued += ensure_mesh_certificates(ca, certs_root / name, [name], **options)
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
