"""SPIFFE IDs: building them and reading them back from certificates and auth contexts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pkg.pki import (
    TRUST_DOMAIN,
    DevelopmentCA,
    caller_identity,
    identity_from_certificate,
    identity_from_pem,
    spiffe_id,
)


def _self_signed(*sans: x509.GeneralName) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(hours=1))
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(key, hashes.SHA256())


def test_spiffe_id_is_in_the_agora_trust_domain() -> None:
    assert TRUST_DOMAIN == "agora.local"
    assert spiffe_id("user") == "spiffe://agora.local/user"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "user name", "ü", "x?y"])
def test_spiffe_id_rejects_names_that_are_not_one_path_segment(name: str) -> None:
    with pytest.raises(ValueError, match="workload name"):
        spiffe_id(name)


def test_identity_from_pem_reads_the_leaf_of_an_issued_chain(ca: DevelopmentCA) -> None:
    issued = ca.issue("auth", dns_names=["auth"], ip_addresses=[], lifetime=timedelta(hours=1))
    assert identity_from_pem(issued.cert_chain_pem) == "auth"
    assert identity_from_pem(ca.intermediate_pem()) is None


@pytest.mark.parametrize(
    "sans",
    [
        (),
        (x509.DNSName("user"),),
        (x509.UniformResourceIdentifier("spiffe://example.org/user"),),
        (x509.UniformResourceIdentifier("spiffe://agora.local/a/b"),),
        (x509.UniformResourceIdentifier("https://agora.local/user"),),
        (
            x509.UniformResourceIdentifier("spiffe://agora.local/user"),
            x509.UniformResourceIdentifier("spiffe://agora.local/auth"),
        ),
    ],
)
def test_identity_from_certificate_is_none_without_exactly_one_local_spiffe_uri(
    sans: tuple[x509.GeneralName, ...],
) -> None:
    assert identity_from_certificate(_self_signed(*sans)) is None


def test_identity_from_pem_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        identity_from_pem(b"not a certificate")


@pytest.mark.parametrize(
    ("auth_context", "expected"),
    [
        ({"peer_spiffe_id": [b"spiffe://agora.local/auth"]}, "auth"),
        ({"peer_uri": [b"spiffe://agora.local/user"]}, "user"),
        ({"peer_spiffe_id": [b"spiffe://example.org/auth"]}, None),
        ({"peer_uri": [b"spiffe://agora.local/a", b"spiffe://agora.local/b"]}, None),
        ({"transport_security_type": [b"ssl"]}, None),
        ({}, None),
    ],
)
def test_caller_identity_from_auth_context_shapes(
    auth_context: dict[str, list[bytes]], expected: str | None
) -> None:
    assert caller_identity(auth_context) == expected
