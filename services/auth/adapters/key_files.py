"""ES256 signing keys as PEM files, one per ``kid``, in the keys directory.

A key's file is ``<kid>.pem`` (PKCS#8, mode 0600) and its ``kid`` is
``<UTC creation time %Y%m%dT%H%M%S%fZ>-<first 16 characters of its RFC 7638 JWK
thumbprint>``, so sorting kids sorts keys by age.  Every file present is published in the
JWKS at once; a key signs once it has been published for the activation delay
(``services.auth.service.signer_at``); retiring a key means deleting its file.
``python -m services.auth rotate-key`` / ``retire-keys`` manage the directory.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pkg.obs import get_logger
from pkg.pki import write_atomic
from services.auth.service import SigningKey

_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
_log = get_logger("agora.auth.keys")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk_thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """The RFC 7638 SHA-256 thumbprint of a P-256 public key, base64url without padding.

    Hashes the required members ``crv``, ``kty``, ``x``, ``y`` in lexicographic order with
    no whitespace (RFC 7638 §3.2, §3.3).
    """
    numbers = public_key.public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def _created_at(kid: str) -> float:
    return datetime.strptime(kid.split("-", 1)[0], _TIME_FORMAT).replace(tzinfo=UTC).timestamp()


def read_keys(keys_dir: Path) -> list[SigningKey]:
    """Every readable ``*.pem`` key in ``keys_dir``, newest first.

    Files that are not P-256 private keys or whose name is not a kid are skipped with a
    warning.  Raises ``OSError`` when the directory cannot be listed.
    """
    keys: list[SigningKey] = []
    for path in keys_dir.glob("*.pem"):
        try:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if (
                not isinstance(private, ec.EllipticCurvePrivateKey)
                or private.curve.name != "secp256r1"
            ):
                raise ValueError("not an ECDSA P-256 key")
            keys.append(
                SigningKey(kid=path.stem, private_key=private, created_at=_created_at(path.stem))
            )
        except (OSError, ValueError, TypeError) as exc:
            _log.warning(
                "skipping unreadable signing key", extra={"path": str(path), "error": str(exc)}
            )
    return sorted(keys, key=lambda k: k.kid, reverse=True)


def create_key(keys_dir: Path, *, now: datetime | None = None) -> SigningKey:
    """Generate a P-256 key, write ``<kid>.pem`` atomically with mode 0600, return it.

    Creates ``keys_dir`` (mode 0700) if needed.  Raises ``OSError`` when it cannot write.
    """
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    created = now or datetime.now(UTC)
    kid = f"{created.strftime(_TIME_FORMAT)}-{jwk_thumbprint(private.public_key())[:16]}"
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomic(keys_dir / f"{kid}.pem", pem, mode=0o600)
    _log.info("signing key created", extra={"kid": kid})
    return SigningKey(kid=kid, private_key=private, created_at=created.timestamp())


@contextlib.contextmanager
def _locked(keys_dir: Path) -> Iterator[None]:
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (keys_dir / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_key(keys_dir: Path) -> list[SigningKey]:
    """The keys of ``keys_dir``, newest first, creating the first one if there is none.

    Holds an exclusive ``flock`` on ``<keys_dir>/.lock`` so that worker processes starting
    together create one key, not one each.
    """
    with _locked(keys_dir):
        keys = read_keys(keys_dir)
        return keys or [create_key(keys_dir)]


def rotate_key(keys_dir: Path) -> SigningKey:
    """Add a new key to ``keys_dir``: running servers publish it at their next re-scan and
    sign with it from ``created_at`` plus their activation delay."""
    with _locked(keys_dir):
        return create_key(keys_dir)


def retire_keys(
    keys_dir: Path, *, older_than_seconds: float, now: float, activation_delay_seconds: float = 0.0
) -> list[str]:
    """Delete keys superseded more than ``older_than_seconds`` before ``now`` (Unix s).

    A key counts as superseded when the next newer key starts signing, its
    ``created_at`` plus ``activation_delay_seconds``: until then the older key still
    signs, so a token it signed just before the switch stays verifiable for the full grace
    period; the newest key is never deleted.  Returns the retired kids.
    """
    with _locked(keys_dir):
        keys = read_keys(keys_dir)
        retired = [
            older.kid
            for newer, older in pairwise(keys)
            if now - (newer.created_at + activation_delay_seconds) > older_than_seconds
        ]
        for kid in retired:
            (keys_dir / f"{kid}.pem").unlink(missing_ok=True)
        return retired
