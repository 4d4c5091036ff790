"""Intermediate rotation (what revokes leaves) against a plain reissue (what does not), and
the per-identity layout Docker Compose mounts one directory of."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from pkg.pki import (
    MESH_TRUST_FILE,
    DevelopmentCA,
    ensure_identity_certificates,
    ensure_mesh_certificates,
)

from .conftest import MESH_NAMES


def _leaf(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _trusted(leaf: x509.Certificate, cert_dir: Path) -> bool:
    """Whether ``leaf`` is issued by the trust file mesh peers verify against."""
    try:
        leaf.verify_directly_issued_by(_leaf(cert_dir / MESH_TRUST_FILE))
    except (ValueError, InvalidSignature):
        return False
    return True


def test_the_mesh_trusts_the_current_intermediate_not_the_root(
    cert_dir: Path, ca: DevelopmentCA
) -> None:
    assert MESH_TRUST_FILE == "intermediate_ca.crt"
    assert (cert_dir / MESH_TRUST_FILE).read_bytes() == ca.intermediate_pem()
    assert (cert_dir / MESH_TRUST_FILE).read_bytes() != ca.root_pem()


def test_a_plain_reissue_leaves_the_old_leaf_trusted(cert_dir: Path, ca: DevelopmentCA) -> None:
    old = _leaf(cert_dir / "cli.crt")
    assert ensure_mesh_certificates(ca, cert_dir, MESH_NAMES, force=True) == list(MESH_NAMES)
    assert _leaf(cert_dir / "cli.crt").serial_number != old.serial_number
    assert _trusted(old, cert_dir), "--force is a renewal: the old leaf is still valid"


def test_rotating_the_intermediate_untrusts_every_old_leaf(
    cert_dir: Path, ca: DevelopmentCA, tmp_path: Path
) -> None:
    old_leaves = {name: _leaf(cert_dir / f"{name}.crt") for name in MESH_NAMES}
    old_intermediate, root = ca.intermediate_pem(), ca.root_pem()

    new_intermediate = ca.rotate_intermediate()
    reissued = ensure_mesh_certificates(DevelopmentCA(tmp_path / "pki"), cert_dir, MESH_NAMES)

    assert reissued == list(MESH_NAMES), "every leaf of the old intermediate is reissued"
    assert new_intermediate != old_intermediate
    assert (tmp_path / "pki/certs/intermediate_ca.crt").read_bytes() == new_intermediate
    assert (cert_dir / MESH_TRUST_FILE).read_bytes() == new_intermediate
    assert (cert_dir / "root_ca.crt").read_bytes() == root, "the root stays"
    for name, old in old_leaves.items():
        assert not _trusted(old, cert_dir), f"old {name} leaf still trusted"
        new = _leaf(cert_dir / f"{name}.crt")
        assert _trusted(new, cert_dir)
        new.verify_directly_issued_by(_leaf(cert_dir / MESH_TRUST_FILE))
        x509.load_pem_x509_certificate(new_intermediate).verify_directly_issued_by(
            _leaf(cert_dir / "root_ca.crt")
        )


def test_a_later_instance_keeps_the_rotated_intermediate(tmp_path: Path) -> None:
    ca = DevelopmentCA(tmp_path / "pki")
    rotated = ca.rotate_intermediate()
    assert DevelopmentCA(tmp_path / "pki").intermediate_pem() == rotated == ca.intermediate_pem()


def test_each_identity_gets_a_directory_with_only_its_own_key(
    tmp_path: Path, ca: DevelopmentCA
) -> None:
    names = ("auth", "user", "edge", "cli")
    assert ensure_identity_certificates(ca, tmp_path / "certs", names) == list(names)
    for name in names:
        files = {p.name for p in (tmp_path / "certs" / name).iterdir()}
        assert files == {"root_ca.crt", MESH_TRUST_FILE, f"{name}.crt", f"{name}.key"}
        assert _trusted(_leaf(tmp_path / "certs" / name / f"{name}.crt"), tmp_path / "certs" / name)
    assert ensure_identity_certificates(ca, tmp_path / "certs", names) == []


def test_identity_directories_refuse_a_path_before_writing_anything(
    tmp_path: Path, ca: DevelopmentCA
) -> None:
    with pytest.raises(ValueError, match="workload name"):
        ensure_identity_certificates(ca, tmp_path / "certs", ["auth", "../etc"])
    assert not (tmp_path / "certs").exists()
