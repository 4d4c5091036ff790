"""Keyset pagination for ListUsers (AIP-158): page sizes and opaque page tokens.

A page token is the URL-safe base64 (no padding) of ``<create_time ISO 8601>|<uuid>``,
the sort key of the last user on the previous page; the next page starts strictly after it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.user.domain import InvalidField

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageCursor:
    """Sort key of a user in the newest-first order: creation instant, then id."""

    create_time: datetime
    user_id: UUID


def page_size(requested: int) -> int:
    """The page size to use: 20 for 0, at most 100; ``InvalidField`` when negative."""
    if requested < 0:
        raise InvalidField("page_size", "must not be negative", reason="PAGE_SIZE_INVALID")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_page_token(cursor: PageCursor) -> str:
    """The opaque token that resumes listing after ``cursor``."""
    raw = f"{cursor.create_time.isoformat()}|{cursor.user_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_page_token(token: str) -> PageCursor:
    """The cursor in ``token``; ``InvalidField`` (``page_token``) when it was not made by
    ``encode_page_token``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        instant, _, user_id = raw.partition("|")
        cursor = PageCursor(datetime.fromisoformat(instant), UUID(user_id))
    except (ValueError, binascii.Error) as exc:
        raise _bad_token() from exc
    if cursor.create_time.tzinfo is None:
        raise _bad_token()
    return cursor


def _bad_token() -> InvalidField:
    return InvalidField("page_token", "is not a token from a previous ListUsers response",
                        reason="PAGE_TOKEN_INVALID")
