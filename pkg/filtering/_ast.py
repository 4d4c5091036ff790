"""The syntax tree of an AIP-160 filter, as ``parse_filter`` returns it.

Pure data: no SQL, no schema.  ``position`` is the 0-based character offset of a node's
first character in the filter string, for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class Value:
    """A literal or name: ``text`` is the unescaped content, ``quoted`` whether it was a
    string literal (``"..."`` or ``'...'``)."""

    text: str
    quoted: bool
    position: int


@dataclass(frozen=True)
class Restriction:
    """``member comparator arg`` (``price < 20``), or a bare ``member`` when ``comparator``
    is None (a global search term).  ``member`` and ``arg`` are dotted paths of values
    (``a.b`` is two); ``comparator`` is one of ``= != < <= > >= :``."""

    member: tuple[Value, ...]
    comparator: str | None
    arg: tuple[Value, ...] | None
    position: int

    @property
    def name(self) -> str:
        """The member path joined with dots (``seller.id``)."""
        return ".".join(part.text for part in self.member)

    @property
    def arg_text(self) -> str:
        """The argument joined with dots (``2.5`` lexes as ``2`` ``.`` ``5``); "" if none."""
        return ".".join(part.text for part in self.arg or ())


@dataclass(frozen=True)
class Not:
    """``NOT x`` or ``-x``."""

    operand: Node
    position: int


@dataclass(frozen=True)
class And:
    """Every operand holds: explicit ``AND`` and implicit (whitespace) sequences alike."""

    operands: tuple[Node, ...]
    position: int


@dataclass(frozen=True)
class Or:
    """Some operand holds.  In AIP-160, ``OR`` binds tighter than ``AND``."""

    operands: tuple[Node, ...]
    position: int


Node: TypeAlias = Restriction | Not | And | Or
