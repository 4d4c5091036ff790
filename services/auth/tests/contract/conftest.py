"""The real auth server (servicer, interceptors, mTLS) with its ports faked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from agora.auth.v1 import auth_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import serving
from services.auth.app import build
from services.auth.config import AuthSettings
from services.auth.tests.fakes import (
    FakeRequestLog,
    FakeSigningKeys,
    FakeThrottle,
    FakeTokenStore,
    FakeUserDirectory,
)


@dataclass
class Auth:
    target: str
    stub: auth_pb2_grpc.AuthServiceStub
    users: FakeUserDirectory
    cert_dir: Path

    def stub_as(self, identity: str) -> tuple[grpc.aio.Channel, auth_pb2_grpc.AuthServiceStub]:
        channel = secure_channel(self.cert_dir, identity, self.target, "auth")
        return channel, auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]


def settings() -> AuthSettings:
    return AuthSettings(
        listen="127.0.0.1:0",
        login_failures_per_account=3,  # type: ignore[call-arg]
        login_failures_per_address=6,
        login_failure_window_seconds=600,
        drain_seconds=0,
    )


@pytest.fixture
async def auth(cert_dir: Path) -> AsyncIterator[Auth]:
    users = FakeUserDirectory()
    server = build(
        settings(),
        MeshSettings(cert_dir=cert_dir),  # type: ignore[call-arg]
        users=users,
        tokens=FakeTokenStore(),
        throttle=FakeThrottle(),
        requests=FakeRequestLog(),
        keys=FakeSigningKeys(),
    )
    async with serving(server) as target:
        channel = secure_channel(cert_dir, "cli", target, "auth")
        try:
            yield Auth(
                target,
                auth_pb2_grpc.AuthServiceStub(channel),  # type: ignore[no-untyped-call]
                users,
                cert_dir,
            )
        finally:
            await channel.close()
