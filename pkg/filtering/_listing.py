"""One page of a filtered, ordered listing: the SQL to run and the next page token.

``plan_page`` checks the whole request (filter, order_by, page_size, page_token) before
any SQL runs; the repository applies the ``PagePlan`` to its ``SELECT`` and cuts what
comes back.  Pages are keyset pages (AIP-158): the next page starts strictly after the
last row's sort key, so rows inserted or deleted meanwhile never make a page repeat or
skip a row that was there throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_

from pkg.filtering._order import Ordering
from pkg.filtering._schema import FilterSchema
from pkg.paging import (
    KeyValue,
    ListRequest,
    decode_keyset_token,
    encode_keyset_token,
    page_size,
    query_fingerprint,
)

T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])


@dataclass(frozen=True)
class PagePlan:
    """What to ask the database for one page: ``where`` (the filter and the keyset
    cursor, None when neither), ``ordering``, and ``size`` rows (fetch ``size + 1``)."""

    where: ColumnElement[bool] | None
    ordering: Ordering
    size: int
    fingerprint: str

    def apply(self, statement: S) -> S:
        """``statement`` with this plan's ``WHERE``, ``ORDER BY`` and ``LIMIT size + 1``."""
        if self.where is not None:
            statement = statement.where(self.where)
        return statement.order_by(*self.ordering.clauses()).limit(self.size + 1)

    def cut(
        self, rows: Sequence[T], key_of: Callable[[T], tuple[KeyValue, ...]] | None = None
    ) -> tuple[list[T], str]:
        """The first ``size`` of ``rows`` and the next page token ("" on the last page).

        ``key_of`` gives a row's sort key in ``ordering``'s order; by default each key
        column's attribute (``row.<column.key>``, true of ORM entities and of rows that
        select the columns).
        """
        page = list(rows[: self.size])
        if len(rows) <= self.size or not page:
            return page, ""
        last = page[-1]
        values = (
            key_of(last)
            if key_of
            else tuple(getattr(last, str(key.column.key)) for key in self.ordering.keys)
        )
        return page, encode_keyset_token(values, fingerprint=self.fingerprint)


def plan_page(schema: FilterSchema, request: ListRequest, *, listing: str) -> PagePlan:
    """The ``PagePlan`` for ``request`` against ``schema``; ``listing`` names the RPC
    (``ListProducts``) in the fingerprint and in messages.

    Raises ``InvalidField`` at ``filter`` (FILTER_INVALID), ``order_by``
    (ORDER_BY_INVALID), ``page_size`` (PAGE_SIZE_INVALID) or ``page_token``
    (PAGE_TOKEN_INVALID: not issued here, or issued for another filter or order_by).
    """
    condition = schema.compile_filter(request.filter)
    ordering = schema.ordering(request.order_by)
    size = page_size(request.page_size)
    fingerprint = query_fingerprint(listing, request.filter.strip(), ordering.canonical)
    if request.page_token:
        values = decode_keyset_token(
            request.page_token, fingerprint=fingerprint, kinds=ordering.kinds, listing=listing
        )
        cursor = ordering.after(values)
        condition = cursor if condition is None else and_(condition, cursor)
    return PagePlan(condition, ordering, size, fingerprint)
