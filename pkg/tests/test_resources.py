"""closed_on_failure: what a builder opened before it failed is closed at once."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from pkg.resources import closed_on_failure


async def test_a_failing_build_closes_what_it_opened_and_re_raises() -> None:
    closed: list[str] = []

    async def close_pool() -> None:
        closed.append("pool")

    stack = AsyncExitStack()
    with pytest.raises(KeyError), closed_on_failure(stack):
        stack.push_async_callback(close_pool)
        raise KeyError("user")
    for _ in range(3):
        await asyncio.sleep(0)

    assert closed == ["pool"]


async def test_a_successful_build_leaves_the_stack_open_for_the_server() -> None:
    closed: list[str] = []

    async def close_pool() -> None:
        closed.append("pool")

    stack = AsyncExitStack()
    with closed_on_failure(stack):
        stack.push_async_callback(close_pool)
    await asyncio.sleep(0)
    assert closed == []
    await stack.aclose()
    assert closed == ["pool"]


def test_outside_an_event_loop_the_stack_is_closed_and_the_builders_error_kept() -> None:
    closed: list[str] = []

    async def close_pool() -> None:
        closed.append("pool")

    stack = AsyncExitStack()
    with pytest.raises(ValueError, match="no auth target"), closed_on_failure(stack):
        stack.push_async_callback(close_pool)
        raise ValueError("no auth target")
    assert closed == ["pool"]
