"""Keyset pagination (AIP-158): page sizes, opaque page tokens and the cut of one page.

Every listing orders newest first by ``(create_time, id)``, descending.  A page token is
the URL-safe base64 (no padding) of ``<create_time ISO 8601>|<uuid>``, the sort key of the
last item of the previous page; the next page starts strictly after it.  The token is
opaque to clients but not secret or signed: a hand-made one only moves where a listing the
caller may see starts.  Pure Python, so use cases may import it.

Listings with an AIP-132 ``order_by`` use keyset tokens instead (``encode_keyset_token``):
the sort key values of the last row, typed by ``KeyKind``, and a fingerprint of the query
(listing, filter, order_by) that the token belongs to (AIP-158: a token is only valid with
the request parameters that produced it).  ``pkg.filtering`` builds the SQL for them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias, TypeVar
from uuid import UUID

from agora.errors.v1.reasons import SharedReason
from pkg.errors import InvalidField


@dataclass(frozen=True)
class ListRequest:
    """The AIP-132 fields of a List request, as the mapper reads them (plain data, so use
    cases take it without importing SQLAlchemy; ``pkg.filtering.plan_page`` plans it)."""

    filter: str = ""
    order_by: str = ""
    page_size: int = 0
    page_token: str = ""


DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

MAX_TOKEN_LENGTH = 4096

T = TypeVar("T")
KeyValue: TypeAlias = int | str | datetime | UUID
"""One sort key value of a row, as the column gives it."""


class KeyKind(StrEnum):
    """The type of a sort key column, which decides how a token carries its value."""

    INT = "int"
    STRING = "string"
    TIMESTAMP = "timestamp"
    UUID = "uuid"


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


def query_fingerprint(listing: str, *parts: str) -> str:
    """A short digest of a listing and the request parameters its pages depend on
    (``filter``, ``order_by``): SHA-256 over their JSON list, first 16 bytes, base64url."""
    digest = hashlib.sha256(json.dumps([listing, *parts]).encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def encode_keyset_token(values: Sequence[KeyValue], *, fingerprint: str) -> str:
    """The opaque token resuming a listing after the row whose sort key is ``values``
    (in ``order_by`` order, primary key last), for the query ``fingerprint`` names."""
    keys = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"q": fingerprint, "k": [str(k) if isinstance(k, UUID) else k for k in keys]})
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")


def decode_keyset_token(
    token: str, *, fingerprint: str, kinds: Sequence[KeyKind], listing: str
) -> tuple[KeyValue, ...]:
    """The sort key values in ``token``, each checked against its column's ``kinds``.

    ``InvalidField`` (``page_token``, PAGE_TOKEN_INVALID) when ``encode_keyset_token`` did
    not make it, or made it for another query (``fingerprint``: other filter or order_by)
    or sort key.  ``listing`` names the RPC in the message (``ListProducts``).
    """
    try:
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
        payload = json.loads(raw)
        if not isinstance(payload, dict) or not isinstance(payload.get("k"), list):
            raise ValueError("not a keyset token")
    except (ValueError, binascii.Error) as exc:
        raise _bad_token(listing) from exc
    if payload.get("q") != fingerprint:
        raise InvalidField(
            "page_token",
            f"belongs to another query: send a {listing} page token with the same filter "
            "and order_by as the request that returned it",
            reason=SharedReason.PAGE_TOKEN_INVALID,
        )
    keys = payload["k"]
    if len(keys) != len(kinds):
        raise _bad_token(listing)
    try:
        return tuple(_key_value(kind, key) for kind, key in zip(kinds, keys, strict=True))
    except (ValueError, TypeError) as exc:
        raise _bad_token(listing) from exc


def _key_value(kind: KeyKind, key: object) -> KeyValue:
    if kind is KeyKind.INT:
        if type(key) is not int or not -(2**63) <= key < 2**63:
            raise ValueError("not an int64")
        return key
    if not isinstance(key, str):
        raise ValueError("not a string")
    if kind is KeyKind.STRING:
        return key
    if kind is KeyKind.UUID:
        return UUID(key)
    instant = datetime.fromisoformat(key)
    if instant.tzinfo is None:
        raise ValueError("naive timestamp")
    return instant


def _bad_token(listing: str) -> InvalidField:
    return InvalidField(
        "page_token",
        f"is not a token from a previous {listing} response",
        reason=SharedReason.PAGE_TOKEN_INVALID,
    )
