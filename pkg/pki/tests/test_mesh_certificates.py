"""The certificate directory: files, modes, idempotence and renewal before expiry."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from pkg.pki import DevelopmentCA, ensure_mesh_certificates, seconds_until_expiry

from .conftest import MESH_NAMES


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _chain(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def test_directory_holds_trust_bundle_and_one_pair_per_workload(
    cert_dir: Path, ca: DevelopmentCA
) -> None:
    assert (cert_dir / "root_ca.crt").read_bytes() == ca.root_pem()
    assert (cert_dir / "intermediate_ca.crt").read_bytes() == ca.intermediate_pem()
    assert _mode(cert_dir) == 0o700
    for name in MESH_NAMES:
        assert _mode(cert_dir / f"{name}.key") == 0o600
        assert _mode(cert_dir / f"{name}.crt") == 0o644
        leaf, inter = _chain(cert_dir / f"{name}.crt")
        assert inter == x509.load_pem_x509_certificate(ca.intermediate_pem())
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.UniformResourceIdentifier) == [
            f"spiffe://agora.local/{name}"
        ]
        assert sans.get_values_for_type(x509.DNSName) == [name, "localhost"]
        assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert not [p for p in cert_dir.iterdir() if p.name.endswith(".tmp")]


def test_second_call_reissues_nothing_and_rewrites_nothing(cert_dir: Path, tmp_path: Path) -> None:
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in cert_dir.iterdir()}
    reloaded = DevelopmentCA(tmp_path / "pki")
    assert ensure_mesh_certificates(reloaded, cert_dir, MESH_NAMES) == []
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in cert_dir.iterdir()}
    assert after == before


def test_force_reissues_every_leaf_with_a_new_serial_and_key(
    cert_dir: Path, ca: DevelopmentCA
) -> None:
    before = {
        name: (
            _chain(cert_dir / f"{name}.crt")[0].serial_number,
            (cert_dir / f"{name}.key").read_bytes(),
        )
        for name in MESH_NAMES
    }
    root = (cert_dir / "root_ca.crt").read_bytes()

    assert ensure_mesh_certificates(ca, cert_dir, MESH_NAMES, force=True) == list(MESH_NAMES)

    for name in MESH_NAMES:
        serial, key = before[name]
        assert _chain(cert_dir / f"{name}.crt")[0].serial_number != serial
        assert (cert_dir / f"{name}.key").read_bytes() != key
        assert _mode(cert_dir / f"{name}.key") == 0o600
    assert (cert_dir / "root_ca.crt").read_bytes() == root


def test_new_names_are_added_without_touching_the_others(cert_dir: Path, ca: DevelopmentCA) -> None:
    assert ensure_mesh_certificates(ca, cert_dir, [*MESH_NAMES, "edge"]) == ["edge"]


def test_renews_when_less_than_a_third_of_the_lifetime_remains(tmp_path: Path) -> None:
    pki, certs = tmp_path / "pki", tmp_path / "certs"
    past = DevelopmentCA(pki, clock=lambda: datetime.now(UTC) - timedelta(hours=17))
    ensure_mesh_certificates(past, certs, ["user", "auth"])
    old = (certs / "user.crt").read_bytes()
    assert ensure_mesh_certificates(DevelopmentCA(pki), certs, ["user"]) == ["user"]
    assert (certs / "user.crt").read_bytes() != old
    assert seconds_until_expiry(certs / "user.crt") > 23 * 3600
    assert ensure_mesh_certificates(DevelopmentCA(pki), certs, ["user"], renew_fraction=0.25) == []


def test_keeps_a_leaf_with_more_than_a_third_left(tmp_path: Path) -> None:
    pki, certs = tmp_path / "pki", tmp_path / "certs"
    past = DevelopmentCA(pki, clock=lambda: datetime.now(UTC) - timedelta(hours=15))
    ensure_mesh_certificates(past, certs, ["user"])
    assert ensure_mesh_certificates(DevelopmentCA(pki), certs, ["user"]) == []


def test_injected_clock_drives_renewal(cert_dir: Path, ca: DevelopmentCA) -> None:
    tomorrow = datetime.now(UTC) + timedelta(hours=25)
    assert seconds_until_expiry(cert_dir / "cli.crt", clock=lambda: tomorrow) < 0
    renewed = ensure_mesh_certificates(ca, cert_dir, MESH_NAMES, clock=lambda: tomorrow)
    assert renewed == list(MESH_NAMES)


def test_short_lifetime_is_honoured(tmp_path: Path, ca: DevelopmentCA) -> None:
    ensure_mesh_certificates(ca, tmp_path / "c", ["user"], lifetime=timedelta(minutes=5))
    assert 0 < seconds_until_expiry(tmp_path / "c" / "user.crt") <= 300


@pytest.mark.parametrize("broken", ["user.crt", "user.key"])
def test_reissues_missing_or_unreadable_files(
    cert_dir: Path, ca: DevelopmentCA, broken: str
) -> None:
    (cert_dir / broken).write_bytes(b"garbage")
    assert ensure_mesh_certificates(ca, cert_dir, MESH_NAMES) == ["user"]
    (cert_dir / broken).unlink()
    assert ensure_mesh_certificates(ca, cert_dir, MESH_NAMES) == ["user"]


def test_reissues_when_key_does_not_match(cert_dir: Path, ca: DevelopmentCA) -> None:
    (cert_dir / "user.key").write_bytes((cert_dir / "auth.key").read_bytes())
    assert ensure_mesh_certificates(ca, cert_dir, MESH_NAMES) == ["user"]


def test_reissues_everything_for_a_new_ca(cert_dir: Path, tmp_path: Path) -> None:
    other = DevelopmentCA(tmp_path / "other-pki")
    assert ensure_mesh_certificates(other, cert_dir, MESH_NAMES) == list(MESH_NAMES)
    assert (cert_dir / "root_ca.crt").read_bytes() == other.root_pem()
    inter = x509.load_pem_x509_certificate(other.intermediate_pem())
    _chain(cert_dir / "auth.crt")[0].verify_directly_issued_by(inter)


def test_rejects_invalid_renew_fraction(tmp_path: Path, ca: DevelopmentCA) -> None:
    with pytest.raises(ValueError, match="renew_fraction"):
        ensure_mesh_certificates(ca, tmp_path, ["user"], renew_fraction=1.0)


def test_seconds_until_expiry_of_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        seconds_until_expiry(tmp_path / "nope.crt")
