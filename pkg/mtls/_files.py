"""A workload's certificate files: a cheap change stamp, a consistent matching read, and a
throttled watch for renewals."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from pkg.pki import MESH_TRUST_FILE

CHECK_INTERVAL = 5.0
"""Default seconds between two looks at the files (one ``stat`` each) of a server or channel."""

Stamp = tuple[tuple[int, int, int], ...]


@dataclass(frozen=True, slots=True)
class Material:
    """PEM bytes of one identity: trust bundle (``MESH_TRUST_FILE``, the current
    intermediate), certificate chain (leaf first), private key."""

    root: bytes
    chain: bytes
    key: bytes


def key_matches(chain: bytes, key: bytes) -> bool:
    """True when ``key`` is the private key of the first certificate in ``chain``."""
    try:
        leaf = x509.load_pem_x509_certificate(chain)
        private = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        return False
    return private.public_key() == leaf.public_key()


def issued_by_trust(chain: bytes, trust: bytes) -> bool:
    """True when the first certificate of ``chain`` is signed by a certificate of ``trust``.

    A peer that trusts ``trust`` accepts the leaf only then (the chain ends at a trusted
    intermediate, RFC 5280 6.1), so presenting a leaf that fails this would fail every
    handshake: during an intermediate rotation the leaf and the trust file are replaced
    one after the other.
    """
    try:
        leaf = x509.load_pem_x509_certificate(chain)
        anchors = x509.load_pem_x509_certificates(trust)
    except ValueError:
        return False
    for anchor in anchors:
        try:
            leaf.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


class IdentityFiles:
    """``intermediate_ca.crt`` (``MESH_TRUST_FILE``), ``<name>.crt`` and ``<name>.key``
    in ``cert_dir``."""

    def __init__(self, cert_dir: Path, name: str) -> None:
        self.name = name
        self._paths = (
            cert_dir / MESH_TRUST_FILE,
            cert_dir / f"{name}.crt",
            cert_dir / f"{name}.key",
        )

    def stamp(self) -> Stamp | None:
        """Inode, mtime and size of the three files (``None`` if one is missing).

        ``pkg.pki`` replaces files by rename, so any renewal changes the inode.
        """
        try:
            stats = [os.stat(path) for path in self._paths]
        except OSError:
            return None
        return tuple((s.st_ino, s.st_mtime_ns, s.st_size) for s in stats)

    def read(self) -> Material:
        """The three files' bytes. Raises ``OSError`` when one is missing or unreadable."""
        root, chain, key = (path.read_bytes() for path in self._paths)
        return Material(root, chain, key)

    def load(self) -> tuple[Stamp, Material] | None:
        """A usable read with its stamp, or ``None`` to retry later.

        ``None`` when a file is missing, when the files changed while being read, when
        the key does not match the certificate, or when the leaf is not issued by the trust
        file: ``pkg.pki`` writes the key before the certificate, and the leaves before the
        trust file, so for a moment a renewal shows a new key with the old certificate, and
        an intermediate rotation a new leaf with the old intermediate.
        """
        before = self.stamp()
        if before is None:
            return None
        try:
            material = self.read()
        except OSError:
            return None
        if (
            self.stamp() != before
            or not key_matches(material.chain, material.key)
            or not issued_by_trust(material.chain, material.root)
        ):
            return None
        return before, material

    def initial(self, *, attempts: int = 20, pause: float = 0.05) -> tuple[Stamp, Material]:
        """``load()`` for start-up: retries a torn renewal for about a second.

        Raises:
            OSError: a file is missing or unreadable.
            ValueError: the key still does not match the certificate, or the certificate
                is not issued by the trust file.
        """
        for attempt in range(attempts):
            loaded = self.load()
            if loaded is not None:
                return loaded
            self.read()  # surfaces a missing or unreadable file as OSError
            if attempt + 1 < attempts:
                time.sleep(pause)
        raise ValueError(
            f"{self.name}.key does not match the first certificate of "
            f"{self.name}.crt, or that certificate is not issued by "
            f"{MESH_TRUST_FILE}"
        )


class RenewalWatch:
    """The current material of one identity, switched only to complete renewals.

    ``poll()`` costs nothing until ``check_interval`` seconds (of ``clock``) have passed since
    the previous look; then one ``stat`` per file, and a read (``IdentityFiles.load``) only
    when the stamp changed. Not thread-safe: callers serialise ``poll()``.
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
        self.files = files
        self.material = material
        self._stamp = stamp
        self._interval = check_interval
        self._clock = clock
        self._next_check = clock() + check_interval

    def poll(self) -> Material | None:
        """The new material when a complete renewal with different bytes appeared since the
        last switch, else ``None`` (not yet time to look, unchanged, missing or torn)."""
        now = self._clock()
        if now < self._next_check:
            return None
        self._next_check = now + self._interval
        stamp = self.files.stamp()
        if stamp is None or stamp == self._stamp:
            return None
        loaded = self.files.load()
        if loaded is None:
            return None
        self._stamp, material = loaded
        if material == self.material:
            return None
        self.material = material
        return material
