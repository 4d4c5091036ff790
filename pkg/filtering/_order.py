"""AIP-132 ``order_by`` and the keyset condition that resumes an order after a row.

``order_by`` is a comma-separated list of field names, each optionally followed by
``desc`` (or ``asc``, the default): https://google.aip.dev/132#ordering.  The listing's
primary key is always appended, ascending, as the final tie-breaker, so every order is
total and a keyset page (AIP-158) neither repeats nor skips a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, bindparam, literal, or_, tuple_
from sqlalchemy.sql.elements import UnaryExpression

from agora.errors.v1.reasons import SharedReason
from pkg.errors import InvalidField
from pkg.paging import KeyKind, KeyValue

if TYPE_CHECKING:
    from pkg.filtering._fields import Field

MAX_ORDER_FIELDS = 4


@dataclass(frozen=True)
class PrimaryKey:
    """The unique, NOT NULL column that ends every order; ``kind`` its ``KeyKind``."""

    column: ColumnElement[Any]
    kind: KeyKind


@dataclass(frozen=True)
class SortKey:
    """One column of an order: ``name`` as clients write it ("" for the primary key)."""

    name: str
    column: ColumnElement[Any]
    kind: KeyKind
    descending: bool


@dataclass(frozen=True)
class Ordering:
    """A total order: the requested sort keys, then the primary key.

    ``canonical`` is the order written out in full (``"price desc, create_time"``), so two
    spellings of one order share page tokens.
    """

    keys: tuple[SortKey, ...]

    @property
    def canonical(self) -> str:
        """The requested keys as ``order_by`` text, without the primary key."""
        return ", ".join(f"{k.name} desc" if k.descending else k.name for k in self.keys if k.name)

    @property
    def kinds(self) -> tuple[KeyKind, ...]:
        """Each key's ``KeyKind``, for ``pkg.paging.decode_keyset_token``."""
        return tuple(key.kind for key in self.keys)

    def clauses(self) -> list[UnaryExpression[Any]]:
        """``ORDER BY`` clauses: each key ``ASC`` or ``DESC``."""
        return [key.column.desc() if key.descending else key.column.asc() for key in self.keys]

    def after(self, values: tuple[KeyValue | ColumnElement[Any], ...]) -> ColumnElement[bool]:
        """Rows strictly after the row whose sort key is ``values`` in this order.

        One row-value comparison (``(a, b, id) > (:a, :b, :id)``, which a composite index
        serves) when every key runs the same way; otherwise the expansion
        ``a > :a OR (a = :a AND (b < :b OR (b = :b AND id > :id)))`` for mixed directions.
        """
        keys = self.keys
        if len({key.descending for key in keys}) == 1:
            row = tuple_(*(key.column for key in keys))
            bound = tuple_(*(_bind(key, value) for key, value in zip(keys, values, strict=True)))
            return row < bound if keys[0].descending else row > bound
        condition: ColumnElement[bool] | None = None
        for key, value in reversed(list(zip(keys, values, strict=True))):
            beyond = key.column < value if key.descending else key.column > value
            condition = (
                beyond if condition is None else or_(beyond, and_(key.column == value, condition))
            )
        assert condition is not None
        return condition

    def after_parameters(self) -> ColumnElement[bool]:
        """``after`` with named bound parameters (``CURSOR_PARAMETER`` 0, 1, ...) in place
        of the values, for SQL compiled once and run with each page's values."""
        keys = self.keys
        return self.after(
            tuple(
                bindparam(CURSOR_PARAMETER.format(index), type_=key.column.type)
                for index, key in enumerate(keys)
            )
        )


CURSOR_PARAMETER = "page_key_{}"
"""The name of the bound parameter of sort key ``i`` in ``Ordering.after_parameters``."""


def _bind(key: SortKey, value: KeyValue | ColumnElement[Any]) -> ColumnElement[Any]:
    if isinstance(value, ColumnElement):
        return value
    return literal(value, key.column.type)


def order_by_error(description: str) -> InvalidField:
    """The ``InvalidField`` for a bad ``order_by`` (ORDER_BY_INVALID)."""
    return InvalidField("order_by", description, reason=SharedReason.ORDER_BY_INVALID)


def parse_order_by(text: str, sortable: dict[str, Field], primary_key: PrimaryKey) -> Ordering:
    """The ``Ordering`` that ``text`` asks for among the ``sortable`` fields, the primary
    key appended.  ``InvalidField`` (``order_by``, ORDER_BY_INVALID) for an empty item,
    an unknown or repeated field, a direction other than asc/desc, or more than
    ``MAX_ORDER_FIELDS`` fields."""
    keys: list[SortKey] = []
    if text.strip():
        items = text.split(",")
        if len(items) > MAX_ORDER_FIELDS:
            raise order_by_error(f"names more than {MAX_ORDER_FIELDS} fields")
        for index, item in enumerate(items, start=1):
            keys.append(_sort_key(item, index, sortable, {k.name for k in keys}))
    keys.append(SortKey("", primary_key.column, primary_key.kind, descending=False))
    return Ordering(tuple(keys))


def _sort_key(item: str, index: int, sortable: dict[str, Field], seen: set[str]) -> SortKey:
    words = item.split()
    if not words:
        raise order_by_error(f"item {index} is empty (write fields separated by commas)")
    name, direction = words[0], " ".join(words[1:]).lower()
    field = sortable.get(name)
    if field is None or field.key_kind is None:
        known = ", ".join(sorted(sortable)) or "none"
        raise order_by_error(f"item {index}: cannot sort by {name!r}; sortable fields: {known}")
    if direction not in ("", "asc", "desc"):
        raise order_by_error(f"item {index}: {name} is followed by {direction!r}, not desc or asc")
    if name in seen:
        raise order_by_error(f"item {index}: {name} is named twice")
    return SortKey(name, field.column, field.key_kind, descending=direction == "desc")
