"""Workload identities and certificates for Agora's mTLS mesh.

Public API: SPIFFE identities (``TRUST_DOMAIN``, ``spiffe_id``, ``identity_from_certificate``,
``identity_from_pem``, ``caller_identity``), the ``CertificateAuthority`` port with its
``IssuedCertificate``, the ``DevelopmentCA`` adapter, and the certificate-directory
maintenance used by ``agora up`` and ``agora certs`` (``ensure_mesh_certificates``,
``ensure_identity_certificates``, ``seconds_until_expiry``, ``MESH_TRUST_FILE``: the
current intermediate, which is what every mesh peer verifies against),
and ``write_atomic``, the crash-safe write every file a certificate watcher reads goes
through (also ``pkg.edge``'s SDS files). See docs/adr/0004-development-ca.md and
docs/adr/0021-revocation-by-intermediate-rotation.md.
"""

from pkg.pki._ca import DevelopmentCA
from pkg.pki._files import write_atomic
from pkg.pki._identity import (
    TRUST_DOMAIN,
    caller_identity,
    identity_from_certificate,
    identity_from_pem,
    spiffe_id,
)
from pkg.pki._mesh import (
    MESH_TRUST_FILE,
    ensure_identity_certificates,
    ensure_mesh_certificates,
    seconds_until_expiry,
)
from pkg.pki._port import CertificateAuthority, IssuedCertificate

__all__ = [
    "MESH_TRUST_FILE",
    "TRUST_DOMAIN",
    "CertificateAuthority",
    "DevelopmentCA",
    "IssuedCertificate",
    "caller_identity",
    "ensure_identity_certificates",
    "ensure_mesh_certificates",
    "identity_from_certificate",
    "identity_from_pem",
    "seconds_until_expiry",
    "spiffe_id",
    "write_atomic",
]
