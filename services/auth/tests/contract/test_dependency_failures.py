"""Auth with a dependency down: UNAVAILABLE with a retry hint, one log line, and health
that only follows what every RPC needs (Redis)."""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import channel_credentials, secure_channel
from pkg.testing import serving, status_details
from services.auth.app import build
from services.auth.config import AuthSettings
from services.auth.tests.fakes import (
    FakeRequestLog,
    FakeSigningKeys,
    FakeThrottle,
    FakeTokenStore,
    FakeUserDirectory,
)


async def test_redis_down_is_unavailable_with_retry_hint_and_one_log_line(
    cert_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = AuthSettings(
        listen="127.0.0.1:0",
        redis_url="redis://127.0.0.1:1/0",  # type: ignore[call-arg]
        redis_connect_timeout_seconds=0.5,
        drain_seconds=0,
    )
    server = build(
        settings,
        MeshSettings(cert_dir=cert_dir),  # type: ignore[call-arg]
        users=FakeUserDirectory(),
        keys=FakeSigningKeys(),
    )
    async with serving(server) as target:
        # A channel without client-side health checking: auth is NOT_SERVING (no Redis),
        # and a pkg.mtls channel would not even send it the call.
        async with grpc.aio.secure_channel(
            target,
            channel_credentials(cert_dir, "cli"),
            options=[("grpc.ssl_target_name_override", "auth")],
        ) as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
            caplog.clear()
            with caplog.at_level(logging.INFO):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.Refresh(auth_pb2.RefreshRequest(refresh_token="x" * 43))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    details = status_details(caught.value)
    assert details["error_info"].reason == "REDIS_UNAVAILABLE"
    assert details["retry_info"].retry_delay.seconds == 1
    assert ("retry-after", "1") in tuple(caught.value.trailing_metadata() or ())
    warnings = [
        r
        for r in caplog.records  # the event consumer says it paused on its own
        if r.levelno >= logging.WARNING and r.name == "agora.rpc"
    ]
    assert [r.getMessage() for r in warnings] == ["dependency unavailable"]
    assert warnings[0].exc_info is None


async def test_user_service_down_leaves_auth_serving(cert_dir: Path) -> None:
    mesh = MeshSettings(
        cert_dir=cert_dir,  # type: ignore[call-arg]
        endpoints={"user": "127.0.0.1:1"},
    )
    server = build(
        AuthSettings(listen="127.0.0.1:0", drain_seconds=0),
        mesh,  # type: ignore[call-arg]
        tokens=FakeTokenStore(),
        throttle=FakeThrottle(),
        requests=FakeRequestLog(),
        keys=FakeSigningKeys(),
    )
    async with serving(server) as target:
        async with secure_channel(cert_dir, "cli", target, "auth") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            overall = await health.Check(health_pb2.HealthCheckRequest(service=""))
            user = await health.Check(health_pb2.HealthCheckRequest(service="dependency.user"))
    assert overall.status == health_pb2.HealthCheckResponse.SERVING
    assert user.status == health_pb2.HealthCheckResponse.NOT_SERVING
