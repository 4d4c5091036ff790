"""The Redis token store: atomic rotation, reuse detection, TTLs bounded by the family's
absolute expiry, hashes only."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

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


def now() -> datetime:
    return datetime.now(UTC)


def family(user_id: str = "", lifetime: float = 30 * 86400) -> TokenFamily:
    return TokenFamily.open(
        user_id=user_id or str(uuid.uuid4()),
        roles=("customer", "provider"),
        now=now(),
        lifetime=timedelta(seconds=lifetime),
    )


async def start(
    store: RedisTokenStore, user_id: str = "", lifetime: float = 30 * 86400
) -> tuple[TokenFamily, str]:
    fam = family(user_id, lifetime)
    token = new_refresh_token(fam.expires_at)
    await store.create_family(fam, hash_refresh_token(token))
    return fam, token


async def test_rotation_then_reuse_revokes_the_family(client: redis.Redis, prefix: str) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    fam, first = await start(store)
    second = new_refresh_token()

    rotated = await store.rotate(hash_refresh_token(first), hash_refresh_token(second), now=now())
    assert rotated.outcome is RefreshOutcome.ROTATED
    assert rotated.family == fam

    reused = await store.rotate(hash_refresh_token(first), hash_refresh_token("x" * 43), now=now())
    assert reused.outcome is RefreshOutcome.REUSED
    newest = await store.rotate(hash_refresh_token(second), hash_refresh_token("y" * 43), now=now())
    assert newest.outcome is RefreshOutcome.REVOKED
    unknown = await store.rotate(
        hash_refresh_token("z" * 43), hash_refresh_token("w" * 43), now=now()
    )
    assert unknown.outcome is RefreshOutcome.UNKNOWN


async def test_two_concurrent_refreshes_with_one_token_cannot_both_succeed(
    client: redis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    for _ in range(25):
        _, token = await start(store)
        outcomes = await asyncio.gather(
            *(
                store.rotate(
                    hash_refresh_token(token), hash_refresh_token(new_refresh_token()), now=now()
                )
                for _ in range(2)
            )
        )
        assert sorted(o.outcome.value for o in outcomes) == ["reused", "rotated"]


async def test_every_key_expires_within_the_refresh_ttl(client: redis.Redis, prefix: str) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    _, token = await start(store)
    await store.rotate(
        hash_refresh_token(token), hash_refresh_token(new_refresh_token()), now=now()
    )
    keys = await keys_under(client, prefix)
    assert len(keys) == 4  # two tokens, the family, the user's family set
    for key in keys:
        assert 0 < await client.ttl(key) <= TTL


async def test_only_hashes_of_tokens_are_stored(client: redis.Redis, prefix: str) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    _, first = await start(store)
    second = new_refresh_token()
    await store.rotate(hash_refresh_token(first), hash_refresh_token(second), now=now())

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


async def test_logout_all_revokes_every_family_of_the_user_only(
    client: redis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    user = str(uuid.uuid4())
    tokens = [(await start(store, user))[1] for _ in range(3)]
    _, other = await start(store)
    assert await store.revoke_family_of(hash_refresh_token(tokens[0]))

    assert await store.revoke_user(user) == 2
    for token in tokens:
        rotation = await store.rotate(
            hash_refresh_token(token), hash_refresh_token("n" * 43), now=now()
        )
        assert rotation.outcome is RefreshOutcome.REVOKED
    rotation = await store.rotate(
        hash_refresh_token(other), hash_refresh_token("m" * 43), now=now()
    )
    assert rotation.outcome is RefreshOutcome.ROTATED
    assert not await store.revoke_family_of(hash_refresh_token("never issued"))


async def test_no_key_outlives_the_family_absolute_expiry(client: redis.Redis, prefix: str) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    _, token = await start(store, lifetime=100)
    for key in await keys_under(client, prefix):
        assert 0 < await client.ttl(key) <= 100, key
    await store.rotate(
        hash_refresh_token(token), hash_refresh_token(new_refresh_token()), now=now()
    )
    keys = await keys_under(client, prefix)
    assert len(keys) == 4
    for key in keys:
        assert 0 < await client.ttl(key) <= 100, key


async def test_a_rotation_past_the_absolute_expiry_is_refused_and_revokes_the_family(
    client: redis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    fam, token = await start(store, lifetime=100)
    successor = new_refresh_token()
    late = await store.rotate(
        hash_refresh_token(token), hash_refresh_token(successor), now=fam.expires_at
    )
    assert late.outcome is RefreshOutcome.EXPIRED
    assert late.family == fam
    assert await client.exists(f"{prefix}rt:{hash_refresh_token(successor)}") == 0
    again = await store.rotate(hash_refresh_token(token), hash_refresh_token("s" * 43), now=now())
    assert again.outcome is RefreshOutcome.REVOKED


async def test_a_short_lived_family_does_not_shorten_the_user_set_of_longer_ones(
    client: redis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix)
    user = str(uuid.uuid4())
    await start(store, user)
    _, short_lived = await start(store, user, lifetime=50)
    await store.rotate(hash_refresh_token(short_lived), hash_refresh_token("q" * 43), now=now())
    assert await client.ttl(f"{prefix}user:{user}:families") > 50
    assert await store.revoke_user(user) == 2


async def test_a_family_stored_without_an_expiry_ends_a_lifetime_after_creation(
    client: redis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, lifetime_seconds=1000, prefix=prefix)
    user, family_id, token = str(uuid.uuid4()), str(uuid.uuid4()), new_refresh_token()
    created = now().timestamp() - 1001
    await client.hset(
        f"{prefix}family:{family_id}",
        mapping={"user": user, "roles": "customer", "created": str(created), "state": "active"},
    )
    await client.hset(
        f"{prefix}rt:{hash_refresh_token(token)}",
        mapping={"family": family_id, "user": user, "state": "active"},
    )
    await client.sadd(f"{prefix}user:{user}:families", family_id)
    rotation = await store.rotate(
        hash_refresh_token(token), hash_refresh_token("l" * 43), now=now()
    )
    assert rotation.outcome is RefreshOutcome.EXPIRED
    assert rotation.family is not None
    assert rotation.family.expires_at.timestamp() == pytest.approx(created + 1000)
    for key in await keys_under(client, prefix):
        await client.expire(key, 1)


async def test_an_event_revokes_the_user_once_and_records_itself_in_the_inbox(
    client: redis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(client, ttl_seconds=TTL, prefix=prefix, inbox_ttl_seconds=60)
    user, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    tokens = [(await start(store, user))[1] for _ in range(2)]
    _, other = await start(store)

    assert await store.revoke_user_once(user, event_id=event_id) == 2
    _, fresh = await start(store, user)
    assert await store.revoke_user_once(user, event_id=event_id) is None

    for token, outcome in [
        (tokens[0], RefreshOutcome.REVOKED),
        (fresh, RefreshOutcome.ROTATED),
        (other, RefreshOutcome.ROTATED),
    ]:
        rotation = await store.rotate(
            hash_refresh_token(token), hash_refresh_token(new_refresh_token()), now=now()
        )
        assert rotation.outcome is outcome
    inbox = f"agora:inbox:{{auth}}:{event_id}"
    assert 0 < await client.pttl(inbox) <= 60_000
    await client.delete(inbox)
