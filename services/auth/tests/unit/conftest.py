"""Use cases wired to in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.auth.domain import LoginThrottlePolicy
from services.auth.service import AccessTokens, Sessions
from services.auth.tests.fakes import (
    FakeSigningKeys,
    FakeThrottle,
    FakeTokenStore,
    FakeUserDirectory,
)

ISSUER = "https://auth.agora.local"
AUDIENCE = "agora"


@dataclass
class Clock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    sessions: Sessions
    access: AccessTokens
    users: FakeUserDirectory
    tokens: FakeTokenStore
    keys: FakeSigningKeys
    throttle: FakeThrottle
    clock: Clock


@pytest.fixture
def world() -> World:
    clock = Clock()
    users, tokens, keys = FakeUserDirectory(), FakeTokenStore(), FakeSigningKeys()
    throttle = FakeThrottle(clock=clock)
    access = AccessTokens(keys, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=900)
    sessions = Sessions(users=users, tokens=tokens, access=access, throttle=throttle,
                        throttle_policy=LoginThrottlePolicy.of(
                            per_account=5, per_address=20, window_seconds=900))
    return World(sessions, access, users, tokens, keys, throttle, clock)
