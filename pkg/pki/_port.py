"""The certificate-authority port: what services and ``agora up`` need from any CA.

The development CA (``DevelopmentCA``) implements it today; a step-ca client (JWK
provisioner) can implement it later without any caller changing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """One freshly issued workload certificate.

    Attributes:
        cert_chain_pem: PEM certificates, the leaf followed by the issuing intermediate
            (the order TLS sends them in, RFC 8446 4.4.2).
        key_pem: the leaf's private key, unencrypted PKCS#8 PEM (RFC 5958).
        not_after: end of the leaf's validity, timezone-aware UTC.
    """

    cert_chain_pem: bytes
    key_pem: bytes
    not_after: datetime


class CertificateAuthority(Protocol):
    """A CA that issues short-lived X.509-SVIDs for Agora workloads.

    Implementations issue leaves whose only URI SAN is ``spiffe://agora.local/<name>``
    (SPIFFE X.509-SVID) under a root -> intermediate -> leaf hierarchy (RFC 5280).
    """

    def root_pem(self) -> bytes:
        """Return the root CA certificate (PEM), the trust anchor every peer loads."""
        ...

    def intermediate_pem(self) -> bytes:
        """Return the intermediate CA certificate (PEM) that signs the leaves."""
        ...

    def issue(
        self,
        name: str,
        *,
        dns_names: Sequence[str],
        ip_addresses: Sequence[str],
        lifetime: timedelta,
    ) -> IssuedCertificate:
        """Issue a leaf for workload ``name`` valid for ``lifetime`` from now.

        Raises:
            ValueError: invalid ``name``, IP address or a non-positive ``lifetime``.
        """
        ...
