"""Register replays against the real user service (PostgreSQL, argon2) over mTLS.

A replayed ``request_id`` must never buy a session: auth mints tokens only for a replay
that the user service accepted, i.e. the same registration with the same password.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from agora.auth.v1 import auth_pb2, auth_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import TokenMint, serving, status_details
from services.auth.app import build
from services.auth.tests.contract.conftest import settings
from services.auth.tests.fakes import (
    FakeRequestLog,
    FakeSigningKeys,
    FakeThrottle,
    FakeTokenStore,
)
from services.user.adapters.schema import upgrade_database
from services.user.app import build as build_user
from services.user.tests.conftest import PASSWORD, drop_database, fresh_database, random_email
from services.user.tests.contract.conftest import cheap_settings

pytestmark = pytest.mark.integration


@dataclass
class Mesh:
    auth: auth_pb2_grpc.AuthServiceStub
    tokens: FakeTokenStore


@pytest.fixture
async def mesh(postgres_url: str, cert_dir: Path, token_mint: TokenMint) -> AsyncIterator[Mesh]:
    name, url = fresh_database(postgres_url)
    await asyncio.to_thread(upgrade_database, url)
    user = build_user(
        cheap_settings(url),
        MeshSettings.model_validate({"cert_dir": cert_dir, "endpoints": {}}),
        verifier=token_mint.verifier,
    )
    tokens = FakeTokenStore()
    try:
        async with serving(user) as user_target:
            auth = build(
                settings(),
                MeshSettings.model_validate(
                    {"cert_dir": cert_dir, "endpoints": {"user": user_target}}
                ),
                tokens=tokens,
                throttle=FakeThrottle(),
                requests=FakeRequestLog(),
                keys=FakeSigningKeys(),
            )
            async with serving(auth) as target:
                channel = secure_channel(cert_dir, "edge", target, "auth")
                try:
                    yield Mesh(
                        auth_pb2_grpc.AuthServiceStub(channel),  # type: ignore[no-untyped-call]
                        tokens,
                    )
                finally:
                    await channel.close()
    finally:
        await asyncio.to_thread(drop_database, postgres_url, name)


def _register(**changes: str) -> auth_pb2.RegisterRequest:
    request: dict[str, Any] = {"password": PASSWORD, "display_name": "Ann", **changes}
    return auth_pb2.RegisterRequest(**request)


async def test_the_same_registration_again_gets_the_same_user(mesh: Mesh) -> None:
    request = _register(email=random_email(), request_id=str(uuid.uuid4()))
    first = await mesh.auth.Register(request)
    again = await mesh.auth.Register(request)
    assert again.user.name == first.user.name
    assert again.tokens.access_token


@pytest.mark.parametrize(
    "changes", [{"password": "the attacker's password"}, {"email": "attacker@example.com"}]
)
async def test_a_replayed_request_id_with_another_request_gets_no_tokens(
    mesh: Mesh, changes: dict[str, str]
) -> None:
    email, request_id = random_email(), str(uuid.uuid4())
    await mesh.auth.Register(_register(email=email, request_id=request_id))
    families = len(mesh.tokens.families)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mesh.auth.Register(_register(**{"email": email, "request_id": request_id, **changes}))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = status_details(caught.value)
    assert details["error_info"].reason == "IDEMPOTENCY_KEY_REUSED"
    assert list(details["violations"]) == ["request_id"]
    assert len(mesh.tokens.families) == families


async def test_replays_guessing_the_password_stop_at_the_login_limit(mesh: Mesh) -> None:
    email, request_id = random_email(), str(uuid.uuid4())
    await mesh.auth.Register(_register(email=email, request_id=request_id))
    limit = settings().login_failures_per_account
    codes = []
    for attempt in range(limit):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await mesh.auth.Register(
                _register(email=email, request_id=request_id, password=f"guess number {attempt}")
            )
        codes.append(caught.value.code())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mesh.auth.Register(_register(email=email, request_id=request_id))
    assert codes == [grpc.StatusCode.INVALID_ARGUMENT] * limit
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert status_details(caught.value)["error_info"].reason == "TOO_MANY_ATTEMPTS"
