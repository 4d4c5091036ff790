"""Graceful drain: NOT_SERVING first, still serving during the drain, and open health
Watch streams do not hold the stop up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.mtls import channel_credentials, server_credentials
from pkg.server import GrpcServer, Registration
from pkg.server.tests.test_interceptors import _Users
from pkg.testing import TokenMint

SERVING, NOT_SERVING = (
    health_pb2.HealthCheckResponse.SERVING,
    health_pb2.HealthCheckResponse.NOT_SERVING,
)


async def test_stop_drains_then_stops_without_waiting_for_watch_streams(
    cert_dir: Path, token_mint: TokenMint
) -> None:
    server = GrpcServer(
        identity="user",
        listen="127.0.0.1:0",
        verifier=token_mint.verifier,
        credentials=server_credentials(cert_dir, "user"),
        registrations=[
            Registration(
                "agora.user.v1.UserService",
                _Users(),
                user_pb2_grpc.add_UserServiceServicer_to_server,
            )
        ],
        drain=1.0,
        grace=30.0,
    )
    port = await server.start()
    async with grpc.aio.secure_channel(
        f"127.0.0.1:{port}",
        channel_credentials(cert_dir, "edge"),
        options=[("grpc.ssl_target_name_override", "user")],
    ) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        users = user_pb2_grpc.UserServiceStub(channel)
        bearer = (("authorization", f"Bearer {token_mint.token('abc')}"),)
        watches = [
            health.Watch(health_pb2.HealthCheckRequest(service=name))
            for name in ("", "agora.user.v1.UserService")
        ]
        for watch in watches:
            assert (await watch.read()).status == SERVING
        started = time.monotonic()
        stopping = asyncio.create_task(server.stop())
        for watch in watches:
            assert (await watch.read()).status == NOT_SERVING
        assert not stopping.done()
        user = await users.GetUser(user_pb2.GetUserRequest(name="users/me"), metadata=bearer)
        assert user.name == "users/abc"
        for watch in watches:
            assert await watch.read() is grpc.aio.EOF
            assert await watch.code() is grpc.StatusCode.OK
        await stopping
    assert time.monotonic() - started < 15.0
