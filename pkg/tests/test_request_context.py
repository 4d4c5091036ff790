"""``pkg.obs``'s request fields: binding, nesting, ids."""

from __future__ import annotations

import asyncio
import re

import pytest

from pkg.obs import current, new_request_id, request_context


def test_fields_bind_over_the_current_ones_and_are_restored() -> None:
    with request_context(rpc="/a.B/C", request_id="r1") as outer:
        assert outer is current() and outer.rpc == "/a.B/C"
        with request_context(subject="users/1") as inner:
            assert (inner.rpc, inner.request_id, inner.subject) == ("/a.B/C", "r1", "users/1")
        assert current().subject == "" and current().request_id == "r1"
    assert current().rpc == "" and current().request_id == ""


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError, match="password"):
        request_context(password="x")


async def test_tasks_see_their_own_fields() -> None:
    async def bound(request_id: str) -> str:
        with request_context(request_id=request_id):
            await asyncio.sleep(0)
            return current().request_id

    assert list(await asyncio.gather(bound("a"), bound("b"))) == ["a", "b"]


def test_request_ids_are_128_bit_lowercase_hex_and_differ() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) and i != "0" * 32 for i in ids)
