"""The composed auth server with real Redis and a real keys directory."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.redis import redis_from_settings
from pkg.testing import serving, status_details
from services.auth import app
from services.auth.adapters import rotate_key
from services.auth.app import build
from services.auth.config import AuthSettings
from services.auth.tests.fakes import FakeUserDirectory

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery"


async def test_a_rotated_key_is_published_first_and_sessions_survive_it(
    redis_url: str, cert_dir: Path, tmp_path: Path
) -> None:
    settings = AuthSettings(
        listen="127.0.0.1:0",
        redis_url=redis_url,  # type: ignore[call-arg]
        keys_dir=tmp_path / "keys",
        key_rescan_seconds=0.05,
        drain_seconds=0,
    )
    server = build(
        settings,
        MeshSettings(cert_dir=cert_dir),  # type: ignore[call-arg]
        users=FakeUserDirectory(),
    )
    async with serving(server) as target:
        channel = secure_channel(cert_dir, "cli", target, "auth")
        auth = auth_pb2_grpc.AuthServiceStub(channel)  # type: ignore[no-untyped-call]
        health = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await health.Check(health_pb2.HealthCheckRequest())
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            registered = await auth.Register(
                auth_pb2.RegisterRequest(
                    email=f"{uuid.uuid4().hex}@example.com", password=PASSWORD, display_name="Ann"
                )
            )
            assert len(list((tmp_path / "keys").glob("*.pem"))) == 1

            first_kid = jwt.get_unverified_header(registered.tokens.access_token)["kid"]
            added = rotate_key(tmp_path / "keys")
            kids: set[str] = set()
            for _ in range(200):
                await asyncio.sleep(0.05)
                jwks = json.loads((await auth.GetJwks(auth_pb2.GetJwksRequest())).data)
                kids = {k["kid"] for k in jwks["keys"]}
                if added.kid in kids:
                    break
            refreshed = await auth.Refresh(
                auth_pb2.RefreshRequest(refresh_token=registered.tokens.refresh_token)
            )
            assert first_kid in kids
            assert jwt.get_unverified_header(refreshed.access_token)["kid"] == first_kid
            await auth.LogoutAll(
                auth_pb2.LogoutAllRequest(),
                metadata=(("authorization", f"Bearer {registered.tokens.access_token}"),),
            )

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await auth.Refresh(auth_pb2.RefreshRequest(refresh_token=refreshed.refresh_token))
            assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
            assert status_details(caught.value)["error_info"].reason == "INVALID_REFRESH_TOKEN"
        finally:
            await channel.close()


async def test_a_build_failing_half_way_closes_what_it_opened(
    redis_url: str, cert_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []

    def recording_redis(*args: Any, **kwargs: Any) -> Any:
        client = redis_from_settings(*args, **kwargs)
        close = client.aclose

        async def aclose() -> None:
            closed.append("redis")
            await close()

        client.aclose = aclose  # type: ignore[method-assign, assignment]
        return client

    monkeypatch.setattr(app, "redis_from_settings", recording_redis)
    settings = AuthSettings(
        listen="127.0.0.1:0",
        redis_url=redis_url,  # type: ignore[call-arg]
        keys_dir=tmp_path / "keys",
    )
    with pytest.raises(KeyError):
        build(settings, MeshSettings(cert_dir=cert_dir, endpoints={}))  # type: ignore[call-arg]
    for _ in range(5):
        await asyncio.sleep(0)

    assert closed == ["redis"]
