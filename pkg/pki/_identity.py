"""SPIFFE identities of Agora workloads: building, reading from certificates and peers.

An identity is a SPIFFE ID ``spiffe://agora.local/<name>`` carried as the single URI SAN of
an X.509-SVID (SPIFFE X.509-SVID specification, sections 2 and 4; RFC 5280, 4.2.1.6).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from cryptography import x509

TRUST_DOMAIN = "agora.local"

_SPIFFE_PREFIX = f"spiffe://{TRUST_DOMAIN}/"
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_AUTH_CONTEXT_SPIFFE_KEY = "peer_spiffe_id"
_AUTH_CONTEXT_URI_KEY = "peer_uri"


def _is_workload_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None and name not in {".", ".."}


def spiffe_id(name: str) -> str:
    """Return the SPIFFE ID of workload ``name``, e.g. ``spiffe://agora.local/user``.

    ``name`` is one SPIFFE path segment: letters, digits, ``.``, ``-`` and ``_``
    (SPIFFE ID specification, 2.2), neither ``.`` nor ``..``.

    Raises:
        ValueError: ``name`` is not a valid path segment.
    """
    if not _is_workload_name(name):
        raise ValueError(f"not a valid workload name for a SPIFFE ID: {name!r}")
    return _SPIFFE_PREFIX + name


def workload_name(uri: str) -> str | None:
    """Return ``<name>`` of ``spiffe://agora.local/<name>``, or None for any other URI."""
    if not uri.startswith(_SPIFFE_PREFIX):
        return None
    name = uri.removeprefix(_SPIFFE_PREFIX)
    return name if _is_workload_name(name) else None


def identity_from_certificate(cert: x509.Certificate) -> str | None:
    """Return the workload name from the SPIFFE URI SAN of ``cert``.

    An X.509-SVID carries exactly one URI SAN (SPIFFE X.509-SVID, 2). Returns None when
    the certificate has no SAN extension, no URI SAN, more than one URI SAN, or a URI that
    is not a single-segment SPIFFE ID in the ``agora.local`` trust domain. The certificate's
    signature and validity are not checked here: that is the TLS handshake's job.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    if len(uris) != 1:
        return None
    return workload_name(uris[0])


def identity_from_pem(pem: bytes) -> str | None:
    """Return the workload name from the first certificate of a PEM bundle.

    ``pem`` may be a chain (leaf first, as in ``<name>.crt``); only the leaf counts.

    Raises:
        ValueError: ``pem`` holds no parseable certificate.
    """
    return identity_from_certificate(x509.load_pem_x509_certificate(pem))


def caller_identity(auth_context: Mapping[str, Iterable[bytes]]) -> str | None:
    """Return the workload name of an mTLS peer from gRPC's ``context.auth_context()``.

    gRPC core (grpcio 1.85, verified by pkg/pki/tests) exposes the verified client
    certificate's URI SANs under ``peer_uri`` and, when there is exactly one URI SAN and it
    is a ``spiffe://`` URI, the same value under ``peer_spiffe_id``; values are bytes.
    ``peer_spiffe_id`` is preferred; otherwise ``peer_uri`` must hold exactly one URI
    (SPIFFE X.509-SVID, 2). Returns None for a plaintext or server-only TLS peer, a foreign
    trust domain, or an ambiguous certificate. See docs/adr/0004-development-ca.md.
    """
    values = list(auth_context.get(_AUTH_CONTEXT_SPIFFE_KEY, ()))
    if not values:
        values = list(auth_context.get(_AUTH_CONTEXT_URI_KEY, ()))
    if len(values) != 1:
        return None
    return workload_name(values[0].decode("utf-8", "replace"))
