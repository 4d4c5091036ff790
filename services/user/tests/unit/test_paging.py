"""Page tokens survive a round trip and reveal nothing readable at a glance."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from services.user.service.paging import PageCursor, decode_page_token, encode_page_token


def test_page_token_round_trips() -> None:
    cursor = PageCursor(datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC), uuid4())
    token = encode_page_token(cursor)
    assert str(cursor.user_id) not in token
    assert decode_page_token(token) == cursor
