"""``pkg.mtls`` channels: request id, trace and deadline carried onward; calls balanced
per request over the addresses that report SERVING."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from pkg.mtls import secure_channel, server_credentials
from pkg.obs import remaining, request_context
from pkg.server import RequestContextInterceptor

ECHO = "/agora.test.v1.Echo/Echo"


class Backend:
    """A server for ``user`` that answers ``Echo`` with what it saw of the call."""

    def __init__(self, cert_dir: Path) -> None:
        self.server = grpc.aio.server(interceptors=[RequestContextInterceptor(lambda _: None)])
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.server_handlers = [
            grpc.method_handlers_generic_handler(
                "agora.test.v1.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(self.echo)}
            )
        ]
        self.server.add_generic_rpc_handlers(self.server_handlers)
        self.port = self.server.add_secure_port("127.0.0.1:0", server_credentials(cert_dir, "user"))
        self.seen: list[dict[str, Any]] = []

    async def echo(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        self.seen.append(
            {
                "metadata": dict(context.invocation_metadata() or ()),
                "time_remaining": context.time_remaining(),
                "remaining": remaining(),
            }
        )
        return str(self.port).encode()


@pytest.fixture
async def backends(cert_dir: Path) -> AsyncIterator[list[Backend]]:
    started = [Backend(cert_dir), Backend(cert_dir)]
    for backend in started:
        await backend.server.start()
    yield started
    for backend in started:
        await backend.server.stop(None)


async def test_request_id_trace_and_deadline_are_propagated(
    cert_dir: Path, backends: list[Backend]
) -> None:
    backend = backends[0]
    async with secure_channel(cert_dir, "auth", f"127.0.0.1:{backend.port}", "user") as channel:
        echo = channel.unary_unary(ECHO)
        with request_context(
            request_id="req-7",
            trace_id="ab" * 16,
            span_id="cd" * 8,
            deadline=time.monotonic() + 3.0,
        ):
            await echo(b"", timeout=60.0)
        await echo(b"", timeout=60.0)
    inside, outside = backend.seen
    assert inside["metadata"]["x-request-id"] == "req-7"
    assert inside["metadata"]["traceparent"].startswith(f"00-{'ab' * 16}-")
    assert inside["time_remaining"] <= 3.0
    assert inside["remaining"] is not None and inside["remaining"] <= 3.0
    assert "x-request-id" not in outside["metadata"]
    assert outside["time_remaining"] > 3.0


async def test_calls_skip_a_not_serving_address_and_spread_over_serving_ones(
    cert_dir: Path, backends: list[Backend]
) -> None:
    first, second = backends
    await second.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    target = f"ipv4:127.0.0.1:{first.port},127.0.0.1:{second.port}"
    async with secure_channel(cert_dir, "auth", target, "user") as channel:
        echo = channel.unary_unary(ECHO)
        ports = {int(await echo(b"", timeout=10.0)) for _ in range(10)}
        assert ports == {first.port}
        await second.health.set("", health_pb2.HealthCheckResponse.SERVING)
        while second.port not in ports:
            ports.add(int(await echo(b"", wait_for_ready=True, timeout=10.0)))
        recent = [int(await echo(b"", timeout=10.0)) for _ in range(10)]
    assert set(recent) == {first.port, second.port}


async def test_a_call_with_a_deadline_waits_for_a_peer_that_comes_back(cert_dir: Path) -> None:
    backend = Backend(cert_dir)
    await backend.server.start()
    target = f"ipv4:127.0.0.1:{backend.port}"
    async with secure_channel(cert_dir, "auth", target, "user") as channel:
        echo = channel.unary_unary(ECHO)
        assert int(await echo(b"", timeout=10.0)) == backend.port
        await backend.server.stop(None)
        with request_context(request_id="req-8", deadline=time.monotonic() + 10.0):
            pending = asyncio.ensure_future(echo(b"", timeout=10.0))
            await asyncio.sleep(0.5)
            assert not pending.done(), "the call failed fast while the peer was away"
            again = grpc.aio.server()
            again.add_generic_rpc_handlers(backend.server_handlers)
            again.add_secure_port(f"127.0.0.1:{backend.port}", server_credentials(cert_dir, "user"))
            health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), again)
            await again.start()
            try:
                assert int(await pending) == backend.port
            finally:
                await again.stop(None)
