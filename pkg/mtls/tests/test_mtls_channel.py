"""secure_channel: a ReloadingChannel reconnects with its renewed client certificate, lets
in-flight calls finish on the replaced channel, and looks at the files at most every
interval; stubs built once keep working across rebuilds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pkg.mtls import ReloadingChannel, secure_channel, server_credentials

from .conftest import GATE, SERVING, Pki, Server, eventually

StartServer = Callable[[grpc.ServerCredentials], Awaitable[Server]]
REQUEST = health_pb2.HealthCheckRequest()


async def test_the_channel_reconnects_with_the_renewed_client_certificate(
    pki: Pki, start_server: StartServer
) -> None:
    server = await start_server(server_credentials(pki.certs, "user"))
    old = pki.serial("auth")
    async with secure_channel(
        pki.certs, "auth", server.target, "user", check_interval=0
    ) as channel:
        stub = health_pb2_grpc.HealthStub(channel)  # built once, like the apps' adapters
        assert (await stub.Check(REQUEST, timeout=10)).status == SERVING
        new = pki.renew("auth")

        async def latest_caller() -> int:
            await stub.Check(REQUEST, timeout=10)
            return server.health.client_serials[-1]

        seen = await eventually(latest_caller, new)
        watch = stub.Watch(REQUEST, timeout=10)  # a streaming method re-binds as well
        first = await watch.read()
        watch.cancel()

    assert server.health.client_serials[0] == old
    assert new != old and seen == new
    assert first.status == SERVING


async def test_in_flight_calls_finish_on_the_replaced_channel(
    pki: Pki, start_server: StartServer
) -> None:
    server = await start_server(server_credentials(pki.certs, "user"))
    async with secure_channel(
        pki.certs, "auth", server.target, "user", check_interval=0, grace=30
    ) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        held = asyncio.ensure_future(channel.unary_unary(GATE)(b"held", timeout=30))
        await asyncio.wait_for(server.gate.entered.wait(), 10)

        new = pki.renew("auth")
        await stub.Check(REQUEST, timeout=10)  # the first call after renewal rebuilds
        server.gate.open.set()
        answer = await held

    assert server.health.client_serials[-1] == new
    assert answer == b"held"


async def test_the_files_are_looked_at_once_per_interval_not_per_call(
    pki: Pki, start_server: StartServer
) -> None:
    server = await start_server(server_credentials(pki.certs, "user"))
    now = [0.0]
    channel = ReloadingChannel(
        pki.certs, "auth", server.target, "user", check_interval=5, clock=lambda: now[0]
    )
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        old = pki.serial("auth")
        new = pki.renew("auth")
        await stub.Check(REQUEST, timeout=10)
        before_interval = server.health.client_serials[-1]
        now[0] = 5.0
        await stub.Check(REQUEST, timeout=10)
        after_interval = server.health.client_serials[-1]
    finally:
        await channel.close()

    assert (before_interval, after_interval) == (old, new)


async def test_a_torn_renewal_keeps_the_current_channel(
    pki: Pki, start_server: StartServer
) -> None:
    server = await start_server(server_credentials(pki.certs, "user"))
    old = pki.serial("auth")
    async with secure_channel(
        pki.certs, "auth", server.target, "user", check_interval=0
    ) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        chain, _ = pki.renew_key_only("auth")
        await stub.Check(REQUEST, timeout=10)
        during = server.health.client_serials[-1]
        new = pki.finish("auth", chain)

        async def latest_caller() -> int:
            await stub.Check(REQUEST, timeout=10)
            return server.health.client_serials[-1]

        after = await eventually(latest_caller, new)

    assert (during, after) == (old, new)


async def test_it_is_a_grpc_aio_channel(pki: Pki, start_server: StartServer) -> None:
    server = await start_server(server_credentials(pki.certs, "user"))
    channel = secure_channel(pki.certs, "cli", server.target, "user")
    try:
        await asyncio.wait_for(channel.channel_ready(), 10)
        state = channel.get_state()
    finally:
        await channel.close()

    assert isinstance(channel, grpc.aio.Channel)
    assert state is grpc.ChannelConnectivity.READY
