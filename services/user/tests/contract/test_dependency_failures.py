"""The user service with a hung or refusing database, and bad bytes: clear statuses,
no traceback per request, and no credential or hash in any log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import pytest

from agora.user.v1 import user_pb2
from pkg.config import MeshSettings
from pkg.mtls import channel_credentials
from pkg.testing import FaultyProxy, TokenMint, serving, status_details
from services.user.app import build
from services.user.tests.conftest import random_email
from services.user.tests.contract.conftest import cheap_settings, internal_stub

pytestmark = pytest.mark.integration
SECRET_PASSWORD = "tr0ub4dor&3-horse-staple"


@pytest.fixture
async def proxied(
    migrated_database: str, cert_dir: Path, token_mint: TokenMint
) -> AsyncIterator[tuple[grpc.aio.Channel, FaultyProxy]]:
    """A user service whose database connections pass a ``FaultyProxy``, and a channel to
    it as ``auth`` without client-side health checking (the call must reach it)."""
    parts = urlsplit(migrated_database)
    async with FaultyProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        userinfo = parts.netloc.rpartition("@")[0]
        url = parts._replace(netloc=f"{userinfo}@127.0.0.1:{proxy.port}").geturl()
        settings = cheap_settings(
            url, database_timeout_seconds=0.5, database_pool_timeout_seconds=0.5
        )
        mesh = MeshSettings.model_validate({"cert_dir": cert_dir, "endpoints": {}})
        async with serving(build(settings, mesh, verifier=token_mint.verifier)) as target:
            async with grpc.aio.secure_channel(
                target,
                channel_credentials(cert_dir, "auth"),
                options=[("grpc.ssl_target_name_override", "user")],
            ) as channel:
                yield channel, proxy


def _create(**fields: str) -> user_pb2.CreateUserRequest:
    request: dict[str, Any] = {
        "email": random_email(),
        "password": SECRET_PASSWORD,
        "display_name": "Ada",
        **fields,
    }
    return user_pb2.CreateUserRequest(**request)


async def test_hung_database_is_unavailable_and_nothing_secret_is_logged(
    proxied: tuple[grpc.aio.Channel, FaultyProxy],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    channel, proxy = proxied
    stub = internal_stub(channel)
    with caplog.at_level(logging.INFO):
        created = await stub.CreateUser(_create())
        with pytest.raises(grpc.aio.AioRpcError) as nul:
            await stub.CreateUser(_create(display_name="Ada\x00", password="pw\x00" * 4))
        proxy.pause()
        with pytest.raises(grpc.aio.AioRpcError) as hung:
            await stub.CreateUser(_create(), timeout=30)
        proxy.resume()
        again = await stub.CreateUser(_create())
    assert created.name and again.name
    assert nul.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert set(status_details(nul.value)["violations"]) == {"display_name", "password"}
    assert hung.value.code() is grpc.StatusCode.UNAVAILABLE
    assert status_details(hung.value)["error_info"].reason == "DATABASE_UNAVAILABLE"
    logged = caplog.text + "".join(capfd.readouterr())
    assert SECRET_PASSWORD not in logged and "pw\x00" not in logged
    assert "$argon2" not in logged
    assert "Traceback" not in logged
