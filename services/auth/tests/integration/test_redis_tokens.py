"""The Redis token store: atomic rotation, reuse detection, TTLs, hashes only."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import redis.asyncio as redis

from services.auth.adapters import RedisTokenStore
from services.auth.domain import (
    RefreshOutcome,
    TokenFamily,
    hash_refresh_token,
    new_refresh_token,
)
from services.auth.tests.integration.conftest import keys_under

pytestmark = pytest.mark.integration
TTL = 3600


def family(user_id: str = "") -> TokenFamily:
    return TokenFamily(family_id=str(uuid.uuid4()), user_id=user_id or str(uuid.uuid4()),
                       roles=("customer", "provider"), created_at=datetime.now(UTC))


async def start(store: RedisTokenStore, user_id: str = "") -> tuple[TokenFamily, str]:
    fam, token = family(user_id), new_refresh_token()
    await store.create_family(fam, hash_refresh_token(token))
    return fam, token


async def test_rotation_then_reuse_revokes_the_family(client: redis.Redis, prefix: str
                                                      ) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    fam, first = await start(store)
    second = new_refresh_token()

    rotated = await store.rotate(hash_refresh_token(first), hash_refresh_token(second))
    assert rotated.outcome is RefreshOutcome.ROTATED
    assert rotated.family == fam

    reused = await store.rotate(hash_refresh_token(first), hash_refresh_token("x" * 43))
    assert reused.outcome is RefreshOutcome.REUSED
    newest = await store.rotate(hash_refresh_token(second), hash_refresh_token("y" * 43))
    assert newest.outcome is RefreshOutcome.REVOKED
    unknown = await store.rotate(hash_refresh_token("z" * 43), hash_refresh_token("w" * 43))
    assert unknown.outcome is RefreshOutcome.UNKNOWN


async def test_two_concurrent_refreshes_with_one_token_cannot_both_succeed(
        client: redis.Redis, prefix: str) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    for _ in range(25):
        _, token = await start(store)
        outcomes = await asyncio.gather(*(
            store.rotate(hash_refresh_token(token), hash_refresh_token(new_refresh_token()))
            for _ in range(2)))
        assert sorted(o.outcome.value for o in outcomes) == ["reused", "rotated"]


async def test_every_key_expires_within_the_refresh_ttl(client: redis.Redis, prefix: str
                                                        ) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    _, token = await start(store)
    await store.rotate(hash_refresh_token(token), hash_refresh_token(new_refresh_token()))
    keys = await keys_under(client, prefix)
    assert len(keys) == 4  # two tokens, the family, the user's family set
    for key in keys:
        assert 0 < await client.ttl(key) <= TTL


async def test_only_hashes_of_tokens_are_stored(client: redis.Redis, prefix: str) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    _, first = await start(store)
    second = new_refresh_token()
    await store.rotate(hash_refresh_token(first), hash_refresh_token(second))

    stored: list[str] = []
    for key in await keys_under(client, prefix):
        stored.append(key)
        kind = await client.type(key)
        if kind == "hash":
            stored.extend(str(v) for v in (await client.hgetall(key)).values())
        elif kind == "set":
            stored.extend(str(m) for m in await client.smembers(key))
    dump = "\n".join(stored)
    for token in (first, second):
        assert token not in dump
        assert hash_refresh_token(token) in dump


async def test_logout_all_revokes_every_family_of_the_user_only(client: redis.Redis,
                                                                prefix: str) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    user = str(uuid.uuid4())
    tokens = [(await start(store, user))[1] for _ in range(3)]
    _, other = await start(store)
    assert await store.revoke_family_of(hash_refresh_token(tokens[0]))

    assert await store.revoke_user(user) == 2
    for token in tokens:
        rotation = await store.rotate(hash_refresh_token(token), hash_refresh_token("n" * 43))
        assert rotation.outcome is RefreshOutcome.REVOKED
    rotation = await store.rotate(hash_refresh_token(other), hash_refresh_token("m" * 43))
    assert rotation.outcome is RefreshOutcome.ROTATED
    assert not await store.revoke_family_of(hash_refresh_token("never issued"))
