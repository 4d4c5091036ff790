"""Keyset page tokens: a round trip, and every token a client could have altered refused as
INVALID_ARGUMENT at ``page_token`` rather than a crash; page sizes and the cut of a page."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from pkg.errors import InvalidField
from pkg.paging import PageCursor, cut_page, decode_page_token, encode_page_token, page_size


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(2025, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_a_token_round_trips_and_is_not_readable_at_a_glance(instant: datetime) -> None:
    cursor = PageCursor(instant, uuid4())
    token = encode_page_token(cursor)
    assert str(cursor.id) not in token and "=" not in token
    assert decode_page_token(token, listing="ListThings") == cursor


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!",
        "A",
        _b64("2025-05-06T07:08:09+00:00"),
        _b64(f"2025-05-06T07:08:09|{uuid4()}"),
        _b64(f"yesterday|{uuid4()}"),
        _b64("2025-05-06T07:08:09+00:00|not-a-uuid"),
        base64.urlsafe_b64encode(b"\xff\xfe|\x00").decode(),
    ],
)
def test_a_tampered_token_is_an_invalid_page_token(token: str) -> None:
    with pytest.raises(InvalidField) as caught:
        decode_page_token(token, listing="ListThings")
    assert caught.value.field == "page_token"
    assert caught.value.reason == "PAGE_TOKEN_INVALID"
    assert "ListThings" in caught.value.violations[0].description


def test_a_token_with_a_flipped_character_is_refused_or_still_a_valid_cursor() -> None:
    cursor = PageCursor(datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC), uuid4())
    token = encode_page_token(cursor)
    for index in range(len(token) - 1):
        flipped = token[:index] + ("B" if token[index] != "B" else "C") + token[index + 1 :]
        try:
            decoded = decode_page_token(flipped, listing="ListThings")
        except InvalidField as exc:
            assert exc.reason == "PAGE_TOKEN_INVALID"
        else:
            assert decoded.create_time.tzinfo is not None


def test_page_sizes_default_and_cap_and_refuse_negatives() -> None:
    assert page_size(0) == 20
    assert page_size(7) == 7
    assert page_size(1000) == 100
    assert page_size(0, default=5, maximum=10) == 5
    with pytest.raises(InvalidField) as caught:
        page_size(-1)
    assert (caught.value.field, caught.value.reason) == ("page_size", "PAGE_SIZE_INVALID")


def test_a_page_gets_a_next_token_only_when_more_was_found() -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    items = [PageCursor(base - timedelta(seconds=n), uuid4()) for n in range(3)]
    page, token = cut_page(items, 2, lambda item: item)
    assert page == items[:2]
    assert decode_page_token(token, listing="ListThings") == items[1]
    assert cut_page(items[:2], 2, lambda item: item) == (items[:2], "")
    assert cut_page([], 2, lambda item: item) == ([], "")
