"""The argon2id adapter: OWASP parameters, verification, rehash, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.user.adapters.hashing import Argon2Hasher

FAST = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


@pytest.fixture
async def fast() -> AsyncIterator[Argon2Hasher]:
    hasher = Argon2Hasher(**FAST)
    yield hasher
    await hasher.close()


async def test_default_parameters_are_owasps_argon2id_minimum() -> None:
    hasher = Argon2Hasher()
    try:
        encoded = await hasher.hash("correct horse battery")
    finally:
        await hasher.close()
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_verifies_the_right_password_only(fast: Argon2Hasher) -> None:
    encoded = await fast.hash("correct horse battery")
    assert await fast.verify(encoded, "correct horse battery")
    assert not await fast.verify(encoded, "correct horse battery!")
    assert not await fast.verify("not a hash", "correct horse battery")
    await fast.verify_dummy("anything")


async def test_hashes_are_salted(fast: Argon2Hasher) -> None:
    assert await fast.hash("same password") != await fast.hash("same password")


async def test_hash_with_other_parameters_needs_rehash(fast: Argon2Hasher) -> None:
    stronger = Argon2Hasher(time_cost=2, memory_cost=128, parallelism=1)
    try:
        old = await fast.hash("pw")
        assert not fast.needs_rehash(old)
        assert stronger.needs_rehash(old)
        assert stronger.needs_rehash("garbage")
    finally:
        await stronger.close()


async def test_hashing_leaves_the_event_loop_free() -> None:
    slow = Argon2Hasher(time_cost=8, memory_cost=19456, parallelism=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await slow.hash("correct horse battery")
    finally:
        task.cancel()
        await slow.close()
    assert ticks > 10
