"""pkg.mtls.client: a typed stub over a reloading mTLS channel whose close joins the
composition root's cleanup stack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pkg.mtls import ReloadingChannel, client, server_credentials

from .conftest import SERVING, Pki, Server

StartServer = Callable[[grpc.ServerCredentials], Awaitable[Server]]


async def test_the_stub_calls_the_peer_over_mtls_and_the_stack_closes_the_channel(
    pki: Pki, start_server: StartServer
) -> None:
    server = await start_server(server_credentials(pki.certs, "user"))
    async with AsyncExitStack() as stack:
        health = client(stack, pki.certs, "auth", server.target, "user", health_pb2_grpc.HealthStub)
        answer = await health.stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert isinstance(health.channel, ReloadingChannel)

    assert answer.status == SERVING
    assert server.health.client_serials == [pki.serial("auth")]
    with pytest.raises(grpc.aio.UsageError):
        await health.stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
