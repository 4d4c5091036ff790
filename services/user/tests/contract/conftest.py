"""The user service built by its composition root, served in-process over mTLS.

Access tokens come from the test kit's ``token_mint``; certificates from ``cert_dir``.
``stub(identity)`` opens generated stubs on a channel presenting that workload's
certificate (``edge`` for public RPCs, ``auth`` for internal ones).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import TokenMint, serving
from services.user.app import build
from services.user.config import UserSettings
from services.user.tests.conftest import PASSWORD, random_email


def cheap_settings(database_url: str, **overrides: Any) -> UserSettings:
    """Settings for a server on a free port, with cheap argon2 parameters."""
    return UserSettings.model_validate(
        {
            "listen": "127.0.0.1:0",
            "database_url": database_url,
            "argon2_memory_cost_kib": 64,
            "argon2_time_cost": 1,
            "grace_seconds": 0.5,
            "drain_seconds": 0,
            **overrides,
        }
    )


def user_stub(channel: grpc.aio.Channel) -> user_pb2_grpc.UserServiceStub:
    """A typed ``UserServiceStub`` (the generated constructor is untyped)."""
    return user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]


def internal_stub(channel: grpc.aio.Channel) -> user_pb2_grpc.UserInternalServiceStub:
    """A typed ``UserInternalServiceStub``."""
    return user_pb2_grpc.UserInternalServiceStub(channel)  # type: ignore[no-untyped-call]


@pytest.fixture(scope="session")
async def user_target(
    migrated_database: str, cert_dir: Path, token_mint: TokenMint
) -> AsyncIterator[str]:
    """``127.0.0.1:<port>`` of a running user service on the migrated test database."""
    settings = cheap_settings(migrated_database, health_interval_seconds=0.5)
    mesh = MeshSettings.model_validate({"cert_dir": cert_dir, "endpoints": {}})
    server = build(settings, mesh, verifier=token_mint.verifier)
    async with serving(server) as target:
        yield target


@pytest.fixture(scope="session")
async def channels(
    user_target: str, cert_dir: Path
) -> AsyncIterator[Callable[[str], grpc.aio.Channel]]:
    """``channels(identity)``: a cached mTLS channel to the user service as ``identity``."""
    opened: dict[str, grpc.aio.Channel] = {}

    def channel(identity: str) -> grpc.aio.Channel:
        if identity not in opened:
            opened[identity] = secure_channel(cert_dir, identity, user_target, "user")
        return opened[identity]

    yield channel
    for ch in opened.values():
        await ch.close()


@pytest.fixture
async def public(channels: Callable[[str], grpc.aio.Channel]) -> user_pb2_grpc.UserServiceStub:
    """UserService as the edge forwards it."""
    return user_stub(channels("edge"))


@pytest.fixture
async def internal(
    channels: Callable[[str], grpc.aio.Channel],
) -> user_pb2_grpc.UserInternalServiceStub:
    """UserInternalService as the auth service calls it."""
    return internal_stub(channels("auth"))


def bearer(token: str) -> tuple[tuple[str, str]]:
    """Call metadata carrying ``token``."""
    return (("authorization", f"Bearer {token}"),)


async def register(internal: user_pb2_grpc.UserInternalServiceStub, **fields: Any) -> user_pb2.User:
    """Create a user through CreateUser as auth; fields override the defaults."""
    request = {"email": random_email(), "password": PASSWORD, "display_name": "Ada", **fields}
    user: user_pb2.User = await internal.CreateUser(user_pb2.CreateUserRequest(**request))
    return user


def subject(user: user_pb2.User) -> str:
    """The access-token subject of ``user`` (its id)."""
    return user.name.removeprefix("users/")
