"""Use cases wired to in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from services.auth.domain import LoginThrottlePolicy
from services.auth.service import AccessTokens, Sessions
from services.auth.tests.fakes import (
    FakeRequestLog,
    FakeSigningKeys,
    FakeThrottle,
    FakeTokenStore,
    FakeUserDirectory,
)

ISSUER = "https://auth.agora.local"
AUDIENCE = "agora"
ACTIVATION_DELAY = 600.0
FAMILY_LIFETIME = 30 * 86400
PER_ACCOUNT, PER_ADDRESS = 5, 20


@dataclass
class Clock:
    """Unix seconds, moved by the test; ``aware()`` is the same instant as a datetime."""

    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def aware(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@dataclass
class World:
    sessions: Sessions
    access: AccessTokens
    users: FakeUserDirectory
    tokens: FakeTokenStore
    keys: FakeSigningKeys
    throttle: FakeThrottle
    requests: FakeRequestLog
    clock: Clock


@pytest.fixture
def world() -> World:
    """Sessions on ``clock``; ``access`` signs on the real clock (tokens must verify now)
    with the default activation delay, its first key published long ago."""
    clock = Clock()
    users, tokens, keys = FakeUserDirectory(), FakeTokenStore(), FakeSigningKeys()
    throttle, requests = FakeThrottle(clock=clock), FakeRequestLog()
    access = AccessTokens(
        keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=900,
        activation_delay_seconds=ACTIVATION_DELAY,
    )
    sessions = Sessions(
        users=users,
        tokens=tokens,
        access=access,
        throttle=throttle,
        throttle_policy=LoginThrottlePolicy.of(
            per_account=PER_ACCOUNT, per_address=PER_ADDRESS, window_seconds=900
        ),
        requests=requests,
        family_lifetime_seconds=FAMILY_LIFETIME,
        clock=clock.aware,
    )
    return World(sessions, access, users, tokens, keys, throttle, requests, clock)
