"""Fixtures and helpers of the reload tests: a CA, a certificate directory, renewals,
a recording gRPC server and TLS handshakes that report the peer's serial number."""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from pkg.pki import DevelopmentCA, ensure_mesh_certificates

MESH_NAMES = ("auth", "user", "cli")
GATE = "/agora.test.Gate/Wait"
T = TypeVar("T")


@dataclass
class Pki:
    ca: DevelopmentCA
    certs: Path

    def serial(self, name: str) -> int:
        """Serial number of the leaf in ``<name>.crt`` on disk now."""
        return serial_of_pem((self.certs / f"{name}.crt").read_bytes())

    def renew(self, name: str) -> int:
        """Renew ``name`` as ``agora certs`` would 20 h from now; return the new serial."""
        later = datetime.now(UTC) + timedelta(hours=20)
        assert ensure_mesh_certificates(self.ca, self.certs, [name], clock=lambda: later) == [name]
        return self.serial(name)

    def renew_key_only(self, name: str) -> tuple[bytes, bytes]:
        """Write a new key for ``name`` but keep the old certificate (a torn renewal, as
        ``pkg.pki`` leaves it between its two renames); return the certificate chain and
        key to finish it with ``finish``."""
        issued = self.ca.issue(name, dns_names=(name, "localhost"), ip_addresses=("127.0.0.1",))
        replace(self.certs / f"{name}.key", issued.key_pem)
        return issued.cert_chain_pem, issued.key_pem

    def finish(self, name: str, chain: bytes) -> int:
        replace(self.certs / f"{name}.crt", chain)
        return self.serial(name)


def replace(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` (temporary file + rename, like ``pkg.pki``)."""
    temporary = path.with_name(f".{path.name}.test")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def serial_of_pem(pem: bytes) -> int:
    return x509.load_pem_x509_certificate(pem).serial_number


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca = DevelopmentCA(tmp_path / "pki")
    ensure_mesh_certificates(ca, tmp_path / "certs", MESH_NAMES)
    return Pki(ca, tmp_path / "certs")


async def eventually(
    probe: Callable[[], Awaitable[T]], expected: T, *, attempts: int = 200, pause: float = 0.05
) -> T:
    """Poll ``probe`` until it returns ``expected`` (bounded); return the last value."""
    value = await probe()
    for _ in range(attempts):
        if value == expected:
            break
        await asyncio.sleep(pause)
        value = await probe()
    return value


async def handshake_serial(
    port: int, certs: Path, *, client: str = "cli", server_name: str = "user"
) -> int:
    """TLS-handshake with 127.0.0.1:``port`` as ``client`` (ALPN h2, SNI ``server_name``),
    verifying against ``root_ca.crt``; return the serial of the certificate presented."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(certs / "root_ca.crt")
    context.load_cert_chain(certs / f"{client}.crt", certs / f"{client}.key")
    context.set_alpn_protocols(["h2"])
    _, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname=server_name
    )
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass
    return x509.load_der_x509_certificate(der).serial_number


class RecordingHealth(health.aio.HealthServicer):  # type: ignore[misc]
    """The standard health servicer, remembering the serial of each caller's certificate."""

    def __init__(self) -> None:
        super().__init__()
        self.client_serials: list[int] = []

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        auth: Mapping[str, Sequence[bytes]] = context.auth_context()
        self.client_serials.append(serial_of_pem(auth["x509_pem_cert"][0]))
        return await super().Check(request, context)


@dataclass
class Gate:
    """A method ``GATE`` (bytes in, bytes out) that holds each call until ``open`` is set."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    open: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, request: bytes, context: Any) -> bytes:
        self.entered.set()
        await self.open.wait()
        return request

    def handler(self) -> grpc.GenericRpcHandler:
        method = grpc.unary_unary_rpc_method_handler(self.wait)
        return grpc.method_handlers_generic_handler("agora.test.Gate", {"Wait": method})


@dataclass
class Server:
    port: int
    health: RecordingHealth
    gate: Gate

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
async def start_server() -> AsyncIterator[Callable[[grpc.ServerCredentials], Awaitable[Server]]]:
    """Start grpc.aio servers (health + gate) with the given credentials; stopped after."""
    servers: list[grpc.aio.Server] = []

    async def start(credentials: grpc.ServerCredentials) -> Server:
        server = grpc.aio.server()
        recording, gate = RecordingHealth(), Gate()
        health_pb2_grpc.add_HealthServicer_to_server(recording, server)
        server.add_generic_rpc_handlers((gate.handler(),))
        port = server.add_secure_port("127.0.0.1:0", credentials)
        await server.start()
        servers.append(server)
        return Server(port, recording, gate)

    yield start
    for server in servers:
        await server.stop(None)


def fixed_channel(
    certs: Path, target: str, *, identity: str = "cli", server: str = "user"
) -> grpc.aio.Channel:
    """A plain grpc.aio channel with the files as they are now (never reloads)."""
    credentials = grpc.ssl_channel_credentials(
        (certs / "root_ca.crt").read_bytes(),
        (certs / f"{identity}.key").read_bytes(),
        (certs / f"{identity}.crt").read_bytes(),
    )
    return grpc.aio.secure_channel(
        target, credentials, options=[("grpc.ssl_target_name_override", server)]
    )


async def check(channel: grpc.aio.Channel) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=10
    )
    return int(reply.status)


SERVING = health_pb2.HealthCheckResponse.SERVING
