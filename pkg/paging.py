"""Keyset pagination (AIP-158): page sizes, opaque page tokens and the cut of one page.

Every listing orders newest first by ``(create_time, id)``, descending.  A page token is
the URL-safe base64 (no padding) of ``<create_time ISO 8601>|<uuid>``, the sort key of the
last item of the previous page; the next page starts strictly after it.  The token is
opaque to clients but not secret or signed: a hand-made one only moves where a listing the
caller may see starts.  Pure Python, so use cases may import it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from agora.errors.v1.reasons import SharedReason
from pkg.errors import InvalidField

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True)
class PageCursor:
    """Sort key of an item in the newest-first order: creation instant (timezone-aware),
    then id."""

    create_time: datetime
    id: UUID


def page_size(
    requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    """The page size to use: ``default`` for 0, at most ``maximum``; ``InvalidField``
    (``page_size``, PAGE_SIZE_INVALID) when negative."""
    if requested < 0:
        raise InvalidField(
            "page_size", "must not be negative", reason=SharedReason.PAGE_SIZE_INVALID
        )
    return min(requested or default, maximum)


def encode_page_token(cursor: PageCursor) -> str:
    """The opaque token that resumes listing after ``cursor``."""
    raw = f"{cursor.create_time.isoformat()}|{cursor.id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_page_token(token: str, *, listing: str) -> PageCursor:
    """The cursor in ``token``; ``InvalidField`` (``page_token``, PAGE_TOKEN_INVALID) when
    ``encode_page_token`` did not make it.  ``listing`` names the RPC in the message
    (``ListUsers``)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        instant, separator, item_id = raw.partition("|")
        cursor = PageCursor(datetime.fromisoformat(instant), UUID(item_id))
    except (ValueError, binascii.Error) as exc:
        raise _bad_token(listing) from exc
    if not separator or cursor.create_time.tzinfo is None:
        raise _bad_token(listing)
    return cursor


def cut_page(
    found: Sequence[T], size: int, cursor_of: Callable[[T], PageCursor]
) -> tuple[list[T], str]:
    """The first ``size`` of ``found`` and the token of the next page ("" on the last).

    ``found`` is what the repository returned for ``size + 1`` items: one more than the
    page says there is a next page.  ``cursor_of`` gives an item's sort key.
    """
    page = list(found[:size])
    if len(found) > size and page:
        return page, encode_page_token(cursor_of(page[-1]))
    return page, ""


def _bad_token(listing: str) -> InvalidField:
    return InvalidField(
        "page_token",
        f"is not a token from a previous {listing} response",
        reason=SharedReason.PAGE_TOKEN_INVALID,
    )
