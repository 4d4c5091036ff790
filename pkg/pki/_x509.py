"""Building the development CA's certificates (RFC 5280 profile, SPIFFE X.509-SVID leaves)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pkg.pki._identity import spiffe_id

ORGANIZATION = "Agora"


def new_key() -> ec.EllipticCurvePrivateKey:
    """Return a fresh ECDSA P-256 (secp256r1) private key."""
    return ec.generate_private_key(ec.SECP256R1())


def key_to_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Serialise ``key`` as unencrypted PKCS#8 PEM (RFC 5958)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_to_pem(cert: x509.Certificate) -> bytes:
    """Serialise ``cert`` as PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """keyCertSign + cRLSign for CAs, digitalSignature only for leaves (RFC 5280 4.2.1.3)."""
    unused = ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement")
    return x509.KeyUsage(
        digital_signature=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
        **dict.fromkeys(unused, False),
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePublicKey,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
    )


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def build_root(
    key: ec.EllipticCurvePrivateKey, not_before: datetime, not_after: datetime
) -> x509.Certificate:
    """Return a self-signed root CA certificate (CA:true, pathlen 1, keyCertSign, cRLSign)."""
    name = _name("Agora Development Root CA")
    return (
        _builder(name, name, key.public_key(), not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(key, hashes.SHA256())
    )


def build_intermediate(
    key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    root_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """Return an intermediate CA certificate signed by ``root`` (CA:true, pathlen 0)."""
    return (
        _builder(
            _name("Agora Development Intermediate CA"),
            root.subject,
            key.public_key(),
            not_before,
            not_after,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(_aki(root), critical=False)
        .sign(root_key, hashes.SHA256())
    )


def build_leaf(
    name: str,
    key: ec.EllipticCurvePublicKey,
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    dns_names: Sequence[str],
    ip_addresses: Sequence[str],
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """Return an X.509-SVID for workload ``name`` signed by ``issuer``.

    Subject CN=<name>; SANs: URI ``spiffe://agora.local/<name>`` (the only URI, as the
    SPIFFE X.509-SVID spec requires), then ``dns_names`` and ``ip_addresses``;
    KeyUsage digitalSignature (critical), ExtendedKeyUsage serverAuth + clientAuth.

    Raises:
        ValueError: invalid ``name`` or IP address.
    """
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe_id(name))]
    sans += [x509.DNSName(d) for d in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        _builder(subject, issuer.subject, key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(eku, critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(_aki(issuer), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
