"""The development CA: step-ca's file layout, the RFC 5280 profile, and chain validation."""

from __future__ import annotations

import ipaddress
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store

from pkg.pki import CertificateAuthority, DevelopmentCA, IssuedCertificate

LAYOUT = {
    "certs/root_ca.crt": 0o644,
    "certs/intermediate_ca.crt": 0o644,
    "secrets/root_ca_key": 0o600,
    "secrets/intermediate_ca_key": 0o600,
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _issue(ca: CertificateAuthority, name: str = "user") -> IssuedCertificate:
    return ca.issue(
        name,
        dns_names=[name, "localhost"],
        ip_addresses=["127.0.0.1"],
        lifetime=timedelta(hours=24),
    )


def _chain(issued: IssuedCertificate) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(issued.cert_chain_pem)


def test_first_use_writes_step_ca_layout_with_private_modes(tmp_path: Path) -> None:
    ca = DevelopmentCA(tmp_path / "pki")
    assert not (tmp_path / "pki").exists()
    ca.root_pem()
    for relative, mode in LAYOUT.items():
        assert _mode(tmp_path / "pki" / relative) == mode, relative
    for directory in ("", "certs", "secrets"):
        assert _mode(tmp_path / "pki" / directory) == 0o700
    key = serialization.load_pem_private_key(
        (tmp_path / "pki/secrets/intermediate_ca_key").read_bytes(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_second_instance_reuses_root_and_intermediate(tmp_path: Path) -> None:
    first = DevelopmentCA(tmp_path / "pki")
    second = DevelopmentCA(tmp_path / "pki")
    assert first.root_pem() == second.root_pem()
    assert first.intermediate_pem() == second.intermediate_pem()


def test_ca_hierarchy_profile(ca: DevelopmentCA) -> None:
    root = x509.load_pem_x509_certificate(ca.root_pem())
    inter = x509.load_pem_x509_certificate(ca.intermediate_pem())
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 1
    assert inter.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert (root.not_valid_after_utc - root.not_valid_before_utc).days >= 3650
    assert (inter.not_valid_after_utc - inter.not_valid_before_utc).days >= 1825
    inter.verify_directly_issued_by(root)


def test_leaf_profile_is_an_x509_svid(ca: DevelopmentCA) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    leaf, inter = _chain(_issue(ca))
    assert inter.public_bytes(serialization.Encoding.PEM) == ca.intermediate_pem()
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://agora.local/user"]
    assert sans.get_values_for_type(x509.DNSName) == ["user", "localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert leaf.subject.rfc4514_string() == "CN=user"
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = inter.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert leaf.not_valid_before_utc <= before - timedelta(seconds=59)
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert timedelta(hours=24) <= lifetime <= timedelta(hours=24, minutes=1, seconds=1)


def test_key_is_pkcs8_and_matches_leaf(ca: DevelopmentCA) -> None:
    issued = _issue(ca)
    assert issued.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    key = serialization.load_pem_private_key(issued.key_pem, password=None)
    assert key.public_key() == _chain(issued)[0].public_key()
    assert issued.not_after == _chain(issued)[0].not_valid_after_utc


def test_chain_verifies_for_server_and_client_auth(ca: DevelopmentCA) -> None:
    leaf, inter = _chain(_issue(ca))
    store = Store([x509.load_pem_x509_certificate(ca.root_pem())])
    builder = PolicyBuilder().store(store).time(datetime.now(UTC))
    for subject in (x509.DNSName("user"), x509.DNSName("localhost")):
        assert len(builder.build_server_verifier(subject).verify(leaf, [inter])) == 3
    server_ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    builder.build_server_verifier(server_ip).verify(leaf, [inter])
    client = builder.build_client_verifier().verify(leaf, [inter])
    assert x509.UniformResourceIdentifier("spiffe://agora.local/user") in (client.subjects or [])


def test_chain_does_not_verify_against_another_ca(ca: DevelopmentCA, tmp_path: Path) -> None:
    leaf, inter = _chain(_issue(DevelopmentCA(tmp_path / "other")))
    store = Store([x509.load_pem_x509_certificate(ca.root_pem())])
    verifier = PolicyBuilder().store(store).build_client_verifier()
    with pytest.raises(x509.verification.VerificationError):
        verifier.verify(leaf, [inter])


def test_expired_intermediate_is_reissued_from_the_same_root(tmp_path: Path) -> None:
    old = DevelopmentCA(tmp_path / "pki", clock=lambda: datetime.now(UTC) - timedelta(days=1826))
    later = DevelopmentCA(tmp_path / "pki")
    assert old.root_pem() == later.root_pem()
    assert old.intermediate_pem() != later.intermediate_pem()
    leaf, inter = _chain(_issue(later))
    leaf.verify_directly_issued_by(inter)


def test_leaf_never_outlives_its_intermediate(tmp_path: Path) -> None:
    ca = DevelopmentCA(tmp_path / "pki")
    issued = ca.issue("user", dns_names=[], ip_addresses=[], lifetime=timedelta(days=4000))
    inter = x509.load_pem_x509_certificate(ca.intermediate_pem())
    assert issued.not_after == inter.not_valid_after_utc


@pytest.mark.parametrize(
    ("name", "ips", "lifetime"),
    [
        ("a/b", [], timedelta(hours=1)),
        ("user", ["not-an-ip"], timedelta(hours=1)),
        ("user", [], timedelta(0)),
    ],
)
def test_issue_rejects_bad_input(
    ca: DevelopmentCA, name: str, ips: list[str], lifetime: timedelta
) -> None:
    with pytest.raises(ValueError):
        ca.issue(name, dns_names=[], ip_addresses=ips, lifetime=lifetime)


def test_concurrent_first_use_agrees_on_one_ca(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        roots = set(pool.map(lambda _: DevelopmentCA(tmp_path / "pki").root_pem(), range(8)))
    assert len(roots) == 1


def test_expired_root_is_replaced(tmp_path: Path) -> None:
    ancient = DevelopmentCA(
        tmp_path / "pki", clock=lambda: datetime.now(UTC) - timedelta(days=3651)
    )
    fresh = DevelopmentCA(tmp_path / "pki")
    assert ancient.root_pem() != fresh.root_pem()
    inter = x509.load_pem_x509_certificate(fresh.intermediate_pem())
    inter.verify_directly_issued_by(x509.load_pem_x509_certificate(fresh.root_pem()))
