"""Filterable and sortable fields: what a name in a filter or ``order_by`` means in SQL.

Each field turns one restriction (``price < 20``) into a SQLAlchemy boolean expression and
rejects comparators and values that make no sense for it, with an ``InvalidField``
(``filter``, FILTER_INVALID) naming the character where the value starts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, func, literal
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR

from pkg.filtering._ast import Restriction
from pkg.filtering._parse import filter_error
from pkg.paging import KeyKind

_ORDERED = frozenset({"=", "!=", "<", "<=", ">", ">="})
_EQUALITY = frozenset({"=", "!="})
INT64 = (-(2**63), 2**63 - 1)


class Field(ABC):
    """A field a filter may name.  ``name`` is the name clients write (``create_time``);
    ``column`` the SQL it stands for; ``sortable`` whether ``order_by`` may name it (the
    column must then be NOT NULL, so that keyset pages skip no row)."""

    comparators: ClassVar[frozenset[str]] = _ORDERED
    key_kind: ClassVar[KeyKind | None] = None

    def __init__(self, name: str, column: ColumnElement[Any], *, sortable: bool = False) -> None:
        if sortable and self.key_kind is None:
            raise ValueError(f"{type(self).__name__} {name!r} cannot be sortable")
        self.name = name
        self.column = column
        self.sortable = sortable

    def compile(self, restriction: Restriction) -> ColumnElement[bool]:
        """The SQL condition for ``restriction`` on this field; ``InvalidField`` for a
        comparator or value this field does not take."""
        comparator = restriction.comparator or ""
        if comparator not in self.comparators:
            allowed = " ".join(sorted(self.comparators))
            raise filter_error(
                f"at character {restriction.position + 1}: {self.name} takes {allowed}, "
                f"not {comparator or 'a bare value'}"
            )
        return self.condition(comparator, self.value(restriction))

    @abstractmethod
    def value(self, restriction: Restriction) -> Any:
        """The restriction's argument as the column's Python value."""

    def condition(self, comparator: str, value: Any) -> ColumnElement[bool]:
        """``column <comparator> value``."""
        column = self.column
        result: ColumnElement[bool]
        match comparator:
            case "=":
                result = column == value
            case "!=":
                result = column != value
            case "<":
                result = column < value
            case "<=":
                result = column <= value
            case ">":
                result = column > value
            case _:
                result = column >= value
        return result


def _bad_value(restriction: Restriction, what: str) -> Exception:
    arg = restriction.arg[0].position if restriction.arg else restriction.position
    return filter_error(
        f"at character {arg + 1}: {restriction.name} takes {what}, not {restriction.arg_text!r}"
    )


class StringField(Field):
    """A text column compared as a whole (``title = "Red shoes"``; < > compare in the
    column's collation)."""

    key_kind = KeyKind.STRING

    def value(self, restriction: Restriction) -> str:
        return restriction.arg_text


class IntegerField(Field):
    """A 64-bit integer column (``stock >= 1``)."""

    key_kind = KeyKind.INT

    def value(self, restriction: Restriction) -> int:
        text = restriction.arg_text
        try:
            number = int(text)
        except ValueError:
            raise _bad_value(restriction, "an integer") from None
        if not INT64[0] <= number <= INT64[1]:
            raise _bad_value(restriction, "a 64-bit integer")
        return number


class MoneyField(Field):
    """An amount held in minor currency units (an integer column: cents for EUR), written
    in the filter in major units with at most ``exponent`` decimals (ISO 4217's minor
    unit, 2 for EUR and USD): ``price < 19.99`` compares the column with 1999."""

    key_kind = KeyKind.INT

    def __init__(
        self, name: str, column: ColumnElement[Any], *, exponent: int = 2, sortable: bool = False
    ) -> None:
        super().__init__(name, column, sortable=sortable)
        self.exponent = exponent

    def value(self, restriction: Restriction) -> int:
        what = f"an amount with at most {self.exponent} decimals"
        try:
            amount = Decimal(restriction.arg_text)
        except InvalidOperation:
            raise _bad_value(restriction, what) from None
        if not amount.is_finite() or abs(amount.adjusted()) > 20:
            raise _bad_value(restriction, what)
        minor = amount.scaleb(self.exponent)
        if minor != minor.to_integral_value() or not INT64[0] <= minor <= INT64[1]:
            raise _bad_value(restriction, what)
        return int(minor)


class TimestampField(Field):
    """A ``timestamptz`` column, compared with an RFC 3339 instant in quotes
    (``create_time > "2025-01-31T12:00:00Z"``; the offset is required)."""

    key_kind = KeyKind.TIMESTAMP

    def value(self, restriction: Restriction) -> datetime:
        what = 'an RFC 3339 timestamp with an offset, in quotes ("2025-01-31T12:00:00Z")'
        try:
            instant = datetime.fromisoformat(restriction.arg_text)
        except ValueError:
            raise _bad_value(restriction, what) from None
        if instant.tzinfo is None or "T" not in restriction.arg_text.upper():
            raise _bad_value(restriction, what)
        return instant


class EnumField(Field):
    """A column holding one of ``values``: the filter writes the enum value's name
    (``state = ACTIVE``), ``values`` maps each name to what the column stores."""

    comparators = _EQUALITY

    def __init__(self, name: str, column: ColumnElement[Any], values: Mapping[str, object]) -> None:
        super().__init__(name, column)
        self.values = dict(values)

    def value(self, restriction: Restriction) -> object:
        name = restriction.arg_text
        if name not in self.values:
            raise _bad_value(restriction, "one of " + ", ".join(sorted(self.values)))
        return self.values[name]


class RepeatedStringField(Field):
    """A ``text[]`` column; ``categories:"shoes"`` holds when the array has the element
    (``column @> ARRAY['shoes']``, which a GIN index on the column serves)."""

    comparators = frozenset({":"})

    def value(self, restriction: Restriction) -> str:
        return restriction.arg_text

    def condition(self, comparator: str, value: Any) -> ColumnElement[bool]:
        return self.column.contains([value])


@dataclass(frozen=True)
class TextSearch:
    """Full-text search over a document: a bare term in a filter (``red shoes``), or
    ``name:"red shoes"`` when ``name`` is set, matches rows whose ``document`` contains
    every word.

    ``document`` is a ``tsvector`` column (a generated column with a GIN index, the fast
    way) or a text expression, then wrapped in ``to_tsvector(config, document)`` (which a
    GIN index on that same expression serves).  The term becomes
    ``plainto_tsquery(config, term)``: the filter language already has AND, OR and NOT,
    so a term is plain words, and ``plainto_tsquery`` accepts any text without error
    (PostgreSQL manual, "Parsing Queries").  ``config`` is the text search configuration
    (``english``, ``simple``).
    """

    document: ColumnElement[Any]
    config: str = "simple"
    name: str = ""
    _vector: ColumnElement[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        vector = self.document
        if not isinstance(self.document.type, TSVECTOR):
            vector = func.to_tsvector(literal(self.config, REGCONFIG), self.document)
        object.__setattr__(self, "_vector", vector)

    def match(self, term: str) -> ColumnElement[bool]:
        """``document @@ plainto_tsquery(config, term)``."""
        query = func.plainto_tsquery(literal(self.config, REGCONFIG), term)
        return self._vector.bool_op("@@")(query)
