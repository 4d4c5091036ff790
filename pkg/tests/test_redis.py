"""``pkg.redis`` against a real Redis: one retry on a stale connection, failures as
``Unavailable`` for commands, scripts and pipelines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from pkg import errors
from pkg.redis import GuardedRedis, create_redis, redis_probe
from pkg.testing import FaultyProxy

pytestmark = pytest.mark.integration


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[FaultyProxy]:
    parts = urlsplit(redis_url)
    async with FaultyProxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        yield proxy


@pytest.fixture
async def client(redis_url: str, proxy: FaultyProxy) -> AsyncIterator[GuardedRedis]:
    parts = urlsplit(redis_url)
    userinfo = parts.netloc.rpartition("@")[0]
    via = parts._replace(
        netloc=f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}",
        path=parts.path or "/0",
    )
    client = create_redis(via.geturl(), socket_timeout=0.3, connect_timeout=0.3)
    yield client
    await client.aclose()


async def test_a_stale_connection_is_retried_once_without_error(
    client: GuardedRedis, proxy: FaultyProxy
) -> None:
    assert await client.ping()
    proxy.cut()
    assert await client.ping()
    proxy.cut()
    async with client.pipeline(transaction=True) as pipe:
        pipe.set("agora:test:stale", "1", ex=10)
        pipe.get("agora:test:stale")
        assert (await pipe.execute())[1] == b"1"


async def test_a_hung_redis_is_unavailable_for_commands_scripts_and_pipelines(
    client: GuardedRedis, proxy: FaultyProxy
) -> None:
    script = client.register_script("return 1")
    assert await script(keys=[], args=[]) == 1
    proxy.pause()
    with pytest.raises(errors.Unavailable) as caught:
        await client.get("agora:test:hung")
    assert caught.value.reason == "REDIS_UNAVAILABLE"
    with pytest.raises(errors.Unavailable):
        await script(keys=[], args=[])
    with pytest.raises(errors.Unavailable):
        async with client.pipeline(transaction=False) as pipe:
            pipe.get("agora:test:hung")
            await pipe.execute()
    proxy.resume()
    assert await client.ping()


async def test_a_redis_that_is_gone_is_unavailable() -> None:
    client = create_redis("redis://127.0.0.1:1/0", connect_timeout=0.3)
    try:
        with pytest.raises(errors.Unavailable):
            await client.get("anything")
    finally:
        await client.aclose()


async def test_the_probe_is_up_while_redis_answers_and_raises_while_it_hangs(
    client: GuardedRedis, proxy: FaultyProxy
) -> None:
    probe = redis_probe(client)
    assert await probe() is True
    proxy.pause()
    with pytest.raises(errors.Unavailable):
        await probe()
    proxy.resume()
    assert await probe() is True
