"""The upstream TLS context towards a service, as the edge's clusters and other
TLS-originating proxies (the bench's origination hop) use it."""

from __future__ import annotations

from pathlib import Path

from pkg.edge import upstream_tls_context


def test_the_edge_presents_its_own_certificate_by_default() -> None:
    context = upstream_tls_context("user", Path("/certs"), None)
    assert context["tls_certificates"] == [
        {
            "certificate_chain": {"filename": "/certs/edge.crt"},
            "private_key": {"filename": "/certs/edge.key"},
        }
    ]
    assert context["alpn_protocols"] == ["h2"]


def test_another_client_presents_its_certificate_and_checks_the_same_identity() -> None:
    context = upstream_tls_context("user", Path("/certs"), None, client="cli")
    assert context["tls_certificates"] == [
        {
            "certificate_chain": {"filename": "/certs/cli.crt"},
            "private_key": {"filename": "/certs/cli.key"},
        }
    ]
    assert context["validation_context"] == {
        "trusted_ca": {"filename": "/certs/intermediate_ca.crt"},
        "match_typed_subject_alt_names": [
            {"san_type": "URI", "matcher": {"exact": "spiffe://agora.local/user"}}
        ],
    }
