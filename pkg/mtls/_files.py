"""A workload's certificate files: a cheap change stamp, a consistent matching read, and a
throttled watch for renewals."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

CHECK_INTERVAL = 5.0
"""Default seconds between two looks at the files (one ``stat`` each) of a server or channel."""

Stamp = tuple[tuple[int, int, int], ...]


@dataclass(frozen=True, slots=True)
class Material:
    """PEM bytes of one identity: trust bundle, certificate chain (leaf first), private key."""

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


class IdentityFiles:
    """``root_ca.crt``, ``<name>.crt`` and ``<name>.key`` in ``cert_dir``."""

    def __init__(self, cert_dir: Path, name: str) -> None:
        self.name = name
        self._paths = (cert_dir / "root_ca.crt", cert_dir / f"{name}.crt",
                       cert_dir / f"{name}.key")

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

        ``None`` when a file is missing, when the files changed while being read, or when
        the key does not match the certificate: ``pkg.pki`` writes the key before the
        certificate, so for a moment a renewal shows a new key with the old certificate.
        """
        before = self.stamp()
        if before is None:
            return None
        try:
            material = self.read()
        except OSError:
            return None
        if self.stamp() != before or not key_matches(material.chain, material.key):
            return None
        return before, material

    def initial(self, *, attempts: int = 20, pause: float = 0.05) -> tuple[Stamp, Material]:
        """``load()`` for start-up: retries a torn renewal for about a second.

        Raises:
            OSError: a file is missing or unreadable.
            ValueError: the key still does not match the certificate.
        """
        for attempt in range(attempts):
            loaded = self.load()
            if loaded is not None:
                return loaded
            self.read()  # surfaces a missing or unreadable file as OSError
            if attempt + 1 < attempts:
                time.sleep(pause)
        raise ValueError(f"{self.name}.key does not match the first certificate of "
                         f"{self.name}.crt")


class RenewalWatch:
    """The current material of one identity, switched only to complete renewals.

    ``poll()`` costs nothing until ``check_interval`` seconds (of ``clock``) have passed since
    the previous look; then one ``stat`` per file, and a read (``IdentityFiles.load``) only
    when the stamp changed. Not thread-safe: callers serialise ``poll()``.
    """

    def __init__(self, files: IdentityFiles, stamp: Stamp, material: Material, *,
                 check_interval: float, clock: Callable[[], float] = time.monotonic) -> None:
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
