"""A listing's filterable and sortable fields, and the compilation of filters against them.

``FilterSchema.compile_filter`` turns an AIP-160 filter string into one SQLAlchemy boolean
expression; ``FilterSchema.ordering`` turns an AIP-132 ``order_by`` into an ``Ordering``.
Build a schema once at start-up (the adapter's module or ``app.py``), use it per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, not_, or_

from pkg.filtering._ast import And, Node, Not, Or, Restriction
from pkg.filtering._fields import Field, TextSearch
from pkg.filtering._order import Ordering, PrimaryKey, parse_order_by
from pkg.filtering._parse import FilterLimits, filter_error, parse_filter


@dataclass(frozen=True)
class FilterSchema:
    """What one listing can filter and sort by.

    ``fields`` are the names a filter may use; ``text`` the full-text search a bare term
    means (None: bare terms are refused); ``primary_key`` the unique column every order
    ends with; ``default_order`` the ``order_by`` of a request that sends none
    (``"create_time desc"``); ``limits`` bound what a client may send.
    """

    fields: tuple[Field, ...]
    primary_key: PrimaryKey
    default_order: str = ""
    text: TextSearch | None = None
    limits: FilterLimits = field(default_factory=FilterLimits)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"field names repeat: {names}")
        if self.default_order:
            parse_order_by(self.default_order, self._sortable(), self.primary_key)

    def without(self, *names: str) -> FilterSchema:
        """This schema less the fields ``names`` (a public listing hides ``state``, which
        only admins may filter by); a filter naming one is then an unknown field."""
        kept = tuple(f for f in self.fields if f.name not in names)
        return FilterSchema(kept, self.primary_key, self.default_order, self.text, self.limits)

    def compile_filter(self, text: str) -> ColumnElement[bool] | None:
        """The SQL condition of the AIP-160 filter ``text``; None when it is empty.

        Raises ``InvalidField`` (``filter``, FILTER_INVALID) for a malformed filter, one
        over ``limits``, an unknown field, a comparator the field does not take, or a value
        of the wrong type, naming the 1-based character where it happens.
        """
        node = parse_filter(text, limits=self.limits)
        return None if node is None else self.compile(node)

    def compile(self, node: Node) -> ColumnElement[bool]:
        """The SQL condition of a parsed filter (``parse_filter``); errors as
        ``compile_filter``'s.  Recursion is bounded by ``limits.max_depth``."""
        match node:
            case And(operands=operands):
                return and_(*(self.compile(operand) for operand in operands))
            case Or(operands=operands):
                return or_(*(self.compile(operand) for operand in operands))
            case Not(operand=operand):
                return not_(self.compile(operand))
            case Restriction():
                return self._restriction(node)
        raise AssertionError(node)

    def ordering(self, order_by: str) -> Ordering:
        """The ``Ordering`` of an AIP-132 ``order_by`` (``"price desc, create_time"``),
        or of ``default_order`` when it is empty; the primary key comes last.  Raises
        ``InvalidField`` (``order_by``, ORDER_BY_INVALID)."""
        return parse_order_by(order_by or self.default_order, self._sortable(), self.primary_key)

    def _sortable(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields if f.sortable}

    def _restriction(self, restriction: Restriction) -> ColumnElement[bool]:
        name = restriction.name
        if self.text is not None and restriction.comparator is None:
            if len(restriction.member) == 1:
                return self.text.match(restriction.member[0].text)
        if self.text is not None and self.text.name and name == self.text.name:
            if restriction.comparator == ":":
                return self.text.match(restriction.arg_text)
            raise filter_error(
                f"at character {restriction.position + 1}: {name} takes :, "
                f"not {restriction.comparator or 'a bare value'}"
            )
        known = next((f for f in self.fields if f.name == name), None)
        if known is None:
            if restriction.comparator is None:
                raise filter_error(
                    f"at character {restriction.position + 1}: {name!r} needs a comparator "
                    f"and a value (this listing has no text search); {_known(self.fields)}"
                )
            raise filter_error(
                f"at character {restriction.position + 1}: unknown field {name!r}; "
                f"{_known(self.fields)}"
            )
        return known.compile(restriction)


def _known(fields: Iterable[Field]) -> str:
    names = sorted(f.name for f in fields)
    return "filterable fields: " + (", ".join(names) if names else "none")
