"""The local development CA: a root and an intermediate on disk in step-ca's layout."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pkg.pki import _x509
from pkg.pki._files import CERT_MODE, KEY_MODE, make_private_dir, write_atomic
from pkg.pki._port import IssuedCertificate

ROOT_LIFETIME = timedelta(days=3650)
INTERMEDIATE_LIFETIME = timedelta(days=1825)
CLOCK_SKEW = timedelta(minutes=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Pair:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _load_pair(cert_path: Path, key_path: Path) -> _Pair | None:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None
    return _Pair(cert, key)


class DevelopmentCA:
    """A two-level CA for development and tests, implementing ``CertificateAuthority``.

    On first use it creates, under ``pki_dir`` and in step-ca's file layout,
    ``certs/root_ca.crt`` (ECDSA P-256, 10 years, CA:true pathlen 1),
    ``certs/intermediate_ca.crt`` (5 years, CA:true pathlen 0) and their keys
    ``secrets/root_ca_key`` and ``secrets/intermediate_ca_key`` (unencrypted PKCS#8, mode
    0600; directories 0700). Later instances reuse them; a missing, broken or expired root is
    recreated (with a new intermediate), and a missing, broken, expired or foreign
    intermediate is reissued from the root. Creation holds an exclusive ``flock`` on
    ``pki_dir/.lock`` so concurrent processes agree on one CA. Files are written
    atomically. ``clock`` returns the current time (aware UTC); tests inject it.
    """

    def __init__(self, pki_dir: Path, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._dir = pki_dir
        self._clock = clock
        self._root: _Pair | None = None
        self._intermediate: _Pair | None = None

    def _pairs(self) -> tuple[_Pair, _Pair]:
        if self._root is None or self._intermediate is None:
            self._root, self._intermediate = self._load_or_create()
        return self._root, self._intermediate

    def _load_or_create(self) -> tuple[_Pair, _Pair]:
        certs, secrets = self._dir / "certs", self._dir / "secrets"
        for d in (self._dir, certs, secrets):
            make_private_dir(d)
        with (self._dir / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            now = self._clock()
            root = _load_pair(certs / "root_ca.crt", secrets / "root_ca_key")
            if root is None or not self._usable(root.cert, root.cert, now):
                key = _x509.new_key()
                root = _Pair(_x509.build_root(key, now - CLOCK_SKEW, now + ROOT_LIFETIME), key)
                self._write(root, certs / "root_ca.crt", secrets / "root_ca_key")
            inter = _load_pair(certs / "intermediate_ca.crt", secrets / "intermediate_ca_key")
            if inter is None or not self._usable(inter.cert, root.cert, now):
                inter = self._new_intermediate(root, now)
            return root, inter

    def _new_intermediate(self, root: _Pair, now: datetime) -> _Pair:
        key = _x509.new_key()
        not_after = min(now + INTERMEDIATE_LIFETIME, root.cert.not_valid_after_utc)
        inter = _Pair(
            _x509.build_intermediate(key, root.cert, root.key, now - CLOCK_SKEW, not_after), key
        )
        self._write(
            inter,
            self._dir / "certs" / "intermediate_ca.crt",
            self._dir / "secrets" / "intermediate_ca_key",
        )
        return inter

    def rotate_intermediate(self) -> bytes:
        """Replace the intermediate with a new key and certificate under the same root.

        The new intermediate has a fresh ECDSA P-256 key, a new serial and the same subject;
        it is written (key, then certificate, each atomically) under the exclusive ``flock``
        on ``pki_dir/.lock``, so concurrent ``DevelopmentCA`` instances see either the old
        or the new pair. Leaves issued afterwards chain to it; a verifier that trusts only
        the current intermediate (``MESH_TRUST_FILE``) refuses every leaf of the old one,
        which is how ``agora certs --rotate-intermediate`` revokes. The root stays, so
        clients that trust ``root_ca.crt`` are unaffected.

        Returns:
            The new intermediate certificate as PEM.

        Raises:
            OSError: ``pki_dir`` cannot be created or written.
        """
        root, _ = self._pairs()
        with (self._dir / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._intermediate = self._new_intermediate(root, self._clock())
        return _x509.cert_to_pem(self._intermediate.cert)

    @staticmethod
    def _usable(cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> bool:
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return cert.not_valid_before_utc <= now < cert.not_valid_after_utc

    @staticmethod
    def _write(pair: _Pair, cert_path: Path, key_path: Path) -> None:
        write_atomic(key_path, _x509.key_to_pem(pair.key), mode=KEY_MODE)
        write_atomic(cert_path, _x509.cert_to_pem(pair.cert), mode=CERT_MODE)

    def root_pem(self) -> bytes:
        """Return the root CA certificate as PEM, creating the CA on first use.

        Raises:
            OSError: ``pki_dir`` cannot be created or written.
        """
        return _x509.cert_to_pem(self._pairs()[0].cert)

    def intermediate_pem(self) -> bytes:
        """Return the intermediate CA certificate as PEM, creating the CA on first use.

        Raises:
            OSError: ``pki_dir`` cannot be created or written.
        """
        return _x509.cert_to_pem(self._pairs()[1].cert)

    def issue(
        self,
        name: str,
        *,
        dns_names: Sequence[str] = (),
        ip_addresses: Sequence[str] = (),
        lifetime: timedelta = timedelta(hours=24),
    ) -> IssuedCertificate:
        """Issue an X.509-SVID for workload ``name`` with a fresh ECDSA P-256 key.

        Valid from one minute ago (clock skew) until ``lifetime`` from now, capped at the
        intermediate's own expiry. See ``CertificateAuthority.issue``.

        Raises:
            ValueError: invalid ``name``, IP address, or ``lifetime`` not positive.
            OSError: the CA could not be created on first use.
        """
        if lifetime <= timedelta(0):
            raise ValueError(f"lifetime must be positive, got {lifetime}")
        _, inter = self._pairs()
        now = self._clock()
        not_after = min(now + lifetime, inter.cert.not_valid_after_utc)
        key = _x509.new_key()
        leaf = _x509.build_leaf(
            name,
            key.public_key(),
            inter.cert,
            inter.key,
            dns_names=dns_names,
            ip_addresses=ip_addresses,
            not_before=now - CLOCK_SKEW,
            not_after=not_after,
        )
        chain = _x509.cert_to_pem(leaf) + _x509.cert_to_pem(inter.cert)
        return IssuedCertificate(chain, _x509.key_to_pem(key), leaf.not_valid_after_utc)
