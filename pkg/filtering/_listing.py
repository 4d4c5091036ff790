"""One page of a filtered, ordered listing: the SQL to run and the next page token.

``plan_page`` checks the whole request (filter, order_by, page_size, page_token) before
any SQL runs; the repository applies the ``PagePlan`` to its ``SELECT`` and cuts what
comes back.  Pages are keyset pages (AIP-158): the next page starts strictly after the
last row's sort key, so rows inserted or deleted meanwhile never make a page repeat or
skip a row that was there throughout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, LiteralString, TypeVar

from sqlalchemy import ColumnElement, Select, and_

from pkg.db import CompiledQuery, compile_query
from pkg.filtering._order import CURSOR_PARAMETER, Ordering
from pkg.filtering._schema import FilterSchema
from pkg.paging import (
    KeyKind,
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
        keys = self.ordering.keys
        return _cut(
            rows,
            self.size,
            self.fingerprint,
            key_of or (lambda row: tuple(getattr(row, str(key.column.key)) for key in keys)),
        )


def plan_page(schema: FilterSchema, request: ListRequest, *, listing: str) -> PagePlan:
    """The ``PagePlan`` for ``request`` against ``schema``; ``listing`` names the RPC
    (``ListProducts``) in the fingerprint and in messages.

    Raises ``InvalidField`` at ``filter`` (FILTER_INVALID), ``order_by``
    (ORDER_BY_INVALID), ``page_size`` (PAGE_SIZE_INVALID) or ``page_token``
    (PAGE_TOKEN_INVALID: not issued here, or issued for another filter or order_by).
    """
    condition, ordering, size, fingerprint = _checked(schema, request, listing)
    if request.page_token:
        values = decode_keyset_token(
            request.page_token, fingerprint=fingerprint, kinds=ordering.kinds, listing=listing
        )
        condition = _and(condition, ordering.after(values))
    return PagePlan(condition, ordering, size, fingerprint)


def _checked(
    schema: FilterSchema, request: ListRequest, listing: str
) -> tuple[ColumnElement[bool] | None, Ordering, int, str]:
    """``request``'s filter condition, ordering, page size and query fingerprint, checked
    in that order (the first bad one raises)."""
    condition = schema.compile_filter(request.filter)
    ordering = schema.ordering(request.order_by)
    size = page_size(request.page_size)
    return (
        condition,
        ordering,
        size,
        query_fingerprint(listing, request.filter.strip(), ordering.canonical),
    )


def _and(condition: ColumnElement[bool] | None, cursor: ColumnElement[bool]) -> ColumnElement[bool]:
    return cursor if condition is None else and_(condition, cursor)


def _cut(
    rows: Sequence[T], size: int, fingerprint: str, key_of: Callable[[T], tuple[KeyValue, ...]]
) -> tuple[list[T], str]:
    page = list(rows[:size])
    if len(rows) <= size or not page:
        return page, ""
    return page, encode_keyset_token(key_of(page[-1]), fingerprint=fingerprint)


@dataclass(frozen=True)
class _Compiled:
    """One request shape: its SQL, its sort keys' kinds, and its page as a first page
    (the cursor's parameters unbound), shared by every request of the shape."""

    query: CompiledQuery
    kinds: tuple[KeyKind, ...]
    page: ListingPage


@dataclass(frozen=True)
class ListingPage:
    """One page's SQL, ready for ``pkg.db.Reader.all``: ``sql`` and ``params`` (bound
    values), and ``cut`` for the rows it returns (tuples in the listing's column order)."""

    sql: LiteralString
    params: Mapping[str, Any]
    size: int
    fingerprint: str
    key_positions: tuple[int, ...]

    def cut(self, rows: Sequence[Sequence[Any]]) -> tuple[list[Sequence[Any]], str]:
        """The first ``size`` of ``rows`` and the next page token ("" on the last page)."""
        positions = self.key_positions
        return _cut(rows, self.size, self.fingerprint, lambda row: tuple(row[i] for i in positions))


class CompiledListing:
    """A listing whose SQL is compiled once per distinct request shape and then reused.

    ``statement`` is the listing's ``SELECT`` of plain columns (every sort key and the
    primary key among them) with any fixed condition (``WHERE state = 'active'``);
    ``page(request)`` checks the request as ``plan_page`` does and returns the
    ``ListingPage`` to run.  Parsing the filter and compiling the statement (about 300 µs
    for a text search) happen once per (filter, order_by, page_size, first page or not);
    the keyset cursor is a set of bound parameters (``Ordering.after_parameters``), so
    every later page of the same query reuses the SQL too.  The last ``cache_size``
    shapes are kept (least recently used out first); a request that fails its checks is
    never kept, and a new shape costs what ``plan_page`` plus compiling costs, so varying
    filters can only make a client's own requests slower.  ``ValueError`` when a sort key
    column is not selected.
    """

    def __init__(
        self, schema: FilterSchema, statement: Select[Any], *, listing: str, cache_size: int = 256
    ) -> None:
        self._schema = schema
        self._statement = statement
        self._listing = listing
        self._cache_size = cache_size
        self._cache: dict[tuple[str, str, int, bool], _Compiled] = {}
        self._positions = {id(column): i for i, column in enumerate(statement.selected_columns)}
        keys = [f.column for f in schema.fields if f.sortable] + [schema.primary_key.column]
        missing = [str(column) for column in keys if id(column) not in self._positions]
        if missing:
            raise ValueError(f"{listing}: sort key columns not selected: {missing}")

    def page(self, request: ListRequest) -> ListingPage:
        """The SQL of the page ``request`` asks for.  Raises ``InvalidField`` as
        ``plan_page`` does, at ``filter``, ``order_by``, ``page_size`` or ``page_token``."""
        shape = (request.filter, request.order_by, request.page_size, bool(request.page_token))
        compiled = self._cache.pop(shape, None)
        if compiled is None:
            compiled = self._compile(request)
            if len(self._cache) >= self._cache_size:
                del self._cache[next(iter(self._cache))]
        self._cache[shape] = compiled
        if not request.page_token:
            return compiled.page
        values = decode_keyset_token(
            request.page_token,
            fingerprint=compiled.page.fingerprint,
            kinds=compiled.kinds,
            listing=self._listing,
        )
        params = compiled.query.bind(
            **{CURSOR_PARAMETER.format(i): value for i, value in enumerate(values)}
        )
        return dataclasses.replace(compiled.page, params=params)

    def _compile(self, request: ListRequest) -> _Compiled:
        condition, ordering, size, fingerprint = _checked(self._schema, request, self._listing)
        if request.page_token:
            condition = _and(condition, ordering.after_parameters())
        statement = self._statement
        if condition is not None:
            statement = statement.where(condition)
        query = compile_query(statement.order_by(*ordering.clauses()).limit(size + 1))
        positions = tuple(self._positions[id(key.column)] for key in ordering.keys)
        page = ListingPage(query.sql, dict(query.params), size, fingerprint, positions)
        return _Compiled(query, ordering.kinds, page)
