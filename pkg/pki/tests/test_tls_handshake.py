"""Real mTLS handshakes through grpc.aio with issued certificates, and what the server sees."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from pkg.pki import DevelopmentCA, caller_identity, ensure_mesh_certificates


class RecordingHealthServicer(health.aio.HealthServicer):  # type: ignore[misc]
    """The standard health servicer, remembering each caller's auth context."""

    def __init__(self) -> None:
        super().__init__()
        self.auth_contexts: list[Mapping[str, Sequence[bytes]]] = []

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        self.auth_contexts.append(context.auth_context())
        return await super().Check(request, context)


@dataclass
class Server:
    port: int
    servicer: RecordingHealthServicer


def _credentials(cert_dir: Path, name: str) -> tuple[bytes, bytes, bytes]:
    return (
        (cert_dir / "root_ca.crt").read_bytes(),
        (cert_dir / f"{name}.key").read_bytes(),
        (cert_dir / f"{name}.crt").read_bytes(),
    )


@pytest.fixture
async def server(cert_dir: Path) -> AsyncIterator[Server]:
    root, key, chain = _credentials(cert_dir, "user")
    servicer = RecordingHealthServicer()
    aio_server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, aio_server)
    credentials = grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=root, require_client_auth=True
    )
    port = aio_server.add_secure_port("127.0.0.1:0", credentials)
    await aio_server.start()
    yield Server(port, servicer)
    await aio_server.stop(None)


async def _check(port: int, root: bytes, key: bytes, chain: bytes, authority: str) -> int:
    credentials = grpc.ssl_channel_credentials(root, key, chain)
    options = [("grpc.ssl_target_name_override", authority)]
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials, options) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
    return int(response.status)


@pytest.mark.parametrize("authority", ["user", "localhost"])
async def test_mtls_handshake_with_issued_certificates(
    server: Server, cert_dir: Path, authority: str
) -> None:
    status = await _check(server.port, *_credentials(cert_dir, "cli"), authority)
    assert status == health_pb2.HealthCheckResponse.SERVING


async def test_server_sees_the_callers_spiffe_id(server: Server, cert_dir: Path) -> None:
    await _check(server.port, *_credentials(cert_dir, "cli"), "user")
    (auth_context,) = server.servicer.auth_contexts
    assert auth_context["transport_security_type"] == [b"ssl"]
    assert auth_context["peer_spiffe_id"] == [b"spiffe://agora.local/cli"]
    assert auth_context["peer_uri"] == [b"spiffe://agora.local/cli"]
    assert auth_context["x509_common_name"] == [b"cli"]
    assert b"spiffe://agora.local/cli" in auth_context["x509_subject_alternative_name"]
    assert auth_context["peer_dns"] == [b"cli", b"localhost"]
    assert caller_identity(auth_context) == "cli"


async def test_client_certificate_from_another_ca_is_refused(
    server: Server, tmp_path: Path
) -> None:
    foreign = tmp_path / "foreign-certs"
    ensure_mesh_certificates(DevelopmentCA(tmp_path / "foreign-pki"), foreign, ["cli"])
    root = (tmp_path / "certs" / "root_ca.crt").read_bytes()
    _, key, chain = _credentials(foreign, "cli")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _check(server.port, root, key, chain, "user")
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert server.servicer.auth_contexts == []


async def test_server_from_another_ca_is_not_trusted(
    server: Server, cert_dir: Path, tmp_path: Path
) -> None:
    foreign = tmp_path / "foreign-certs"
    ensure_mesh_certificates(DevelopmentCA(tmp_path / "foreign-pki"), foreign, ["cli"])
    foreign_root = (foreign / "root_ca.crt").read_bytes()
    _, key, chain = _credentials(cert_dir, "cli")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _check(server.port, foreign_root, key, chain, "user")
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert server.servicer.auth_contexts == []


def _two_uri_leaf(tmp_path: Path) -> tuple[bytes, bytes]:
    """A leaf signed by the real intermediate but carrying two SPIFFE URIs (not an SVID)."""
    pki = tmp_path / "pki"
    inter = x509.load_pem_x509_certificate((pki / "certs/intermediate_ca.crt").read_bytes())
    inter_key = serialization.load_pem_private_key(
        (pki / "secrets/intermediate_ca_key").read_bytes(), password=None
    )
    assert isinstance(inter_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    uris = ["spiffe://agora.local/auth", "spiffe://agora.local/cli"]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "twins")]))
        .issuer_name(inter.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris]),
            critical=False,
        )
        .sign(inter_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + inter.public_bytes(
        serialization.Encoding.PEM
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem_key, chain


async def test_ambiguous_certificate_yields_no_identity(
    server: Server, cert_dir: Path, tmp_path: Path
) -> None:
    key, chain = _two_uri_leaf(tmp_path)
    await _check(server.port, (cert_dir / "root_ca.crt").read_bytes(), key, chain, "user")
    (auth_context,) = server.servicer.auth_contexts
    assert "peer_spiffe_id" not in auth_context
    assert len(auth_context["peer_uri"]) == 2
    assert caller_identity(auth_context) is None
