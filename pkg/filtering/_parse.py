"""Parse an AIP-160 filter string into the syntax tree of ``pkg.filtering._ast``.

The grammar is AIP-160's EBNF (https://google.aip.dev/160, "Grammar") written for lark's
LALR(1) parser (``_GRAMMAR``): one pass over the input with a basic lexer (so AND, OR
and NOT are keywords wherever they stand), no
backtracking, and a tree transformed without recursion, so the time taken grows with the
input's length whatever an attacker writes.  ``FilterLimits`` bounds length, nesting
depth and the number of restrictions before any SQL is built.  Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from agora.errors.v1.reasons import SharedReason
from pkg.errors import InvalidField
from pkg.filtering._ast import And, Node, Not, Or, Restriction, Value

_GRAMMAR = r"""
// AIP-160 filter grammar (https://google.aip.dev/160, "Grammar"), LALR(1) for lark.
// Precedence, loosest first: AND, implicit sequence (whitespace), OR, NOT / -.
// Functions (`name(args)`) and keywords as member names (`a.AND`) are not part of
// Agora's dialect; see docs/adr/0030.

start: expression

expression: sequence (_AND sequence)*
sequence: factor+
factor: term (_OR term)*
term: negation? simple
negation: NOT | MINUS
?simple: restriction | composite
composite: LPAREN expression _RPAREN
restriction: member (COMPARATOR arg)?
?arg: member | composite
member: value (_DOT value)*
value: TEXT | STRING | NUMBER

_AND: "AND"
_OR: "OR"
NOT: "NOT"
MINUS: "-"
LPAREN: "("
_RPAREN: ")"
_DOT: "."
COMPARATOR: "<=" | ">=" | "!=" | "<" | ">" | "=" | ":"
STRING: /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/s
NUMBER.2: /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![^\s"'()=<>!:.,])/
TEXT: /[^\s"'()=<>!:.,\-][^\s"'()=<>!:.,]*/

%ignore /\s+/
"""

_EXPECTED = {
    "NOT": "NOT",
    "MINUS": "-",
    "LPAREN": "(",
    "_RPAREN": ")",
    "_AND": "AND",
    "_OR": "OR",
    "_DOT": ".",
    "COMPARATOR": "a comparator (= != < <= > >= :)",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "TEXT": "a name or value",
    "$END": "the end of the filter",
}
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class FilterLimits:
    """Bounds on a filter an attacker writes: ``max_length`` characters, ``max_depth``
    levels of parentheses, ``max_restrictions`` comparisons and search terms."""

    max_length: int = 2048
    max_depth: int = 8
    max_restrictions: int = 32


def parse_filter(text: str, *, limits: FilterLimits = FilterLimits()) -> Node | None:
    """The syntax tree of ``text``; None for an empty (all-whitespace) filter.

    Raises ``InvalidField`` (``filter``, FILTER_INVALID) whose description names the
    1-based character where the filter goes wrong and what was expected there, or the
    bound it exceeds (``FilterLimits``).
    """
    if len(text) > limits.max_length:
        raise filter_error(f"is longer than {limits.max_length} characters")
    if not text.strip():
        return None
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise filter_error(_describe(exc, text)) from None
    try:
        node: Node = _Builder(limits).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, InvalidField):
            raise exc.orig_exc from None
        raise
    return node


def filter_error(description: str) -> InvalidField:
    """The ``InvalidField`` for a bad ``filter`` (FILTER_INVALID)."""
    return InvalidField("filter", description, reason=SharedReason.FILTER_INVALID)


@cache
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", lexer="basic")


def _describe(exc: UnexpectedInput, text: str) -> str:
    if isinstance(exc, UnexpectedCharacters):
        where = exc.pos_in_stream or 0
        if text[where] in "\"'":
            return f"at character {where + 1}: a string starts here but is never closed"
        return (
            f"at character {where + 1}: {text[where]!r} is not part of the filter language "
            "(quote a value that contains it)"
        )
    if isinstance(exc, UnexpectedEOF):
        where, found = len(text), "the end of the filter"
        expected = {str(name) for name in exc.expected}
    elif isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            where, found = len(text), "the end of the filter"
        else:
            where, found = token.start_pos or 0, repr(str(token))
        expected = {str(name) for name in exc.expected}
    else:
        return "is not a valid filter"
    names = sorted({_EXPECTED.get(name, name) for name in expected})
    wanted = f"expected {' or '.join(names)}" if names else "unexpected input"
    return f"at character {where + 1}: {wanted}, found {found}"


@dataclass(frozen=True)
class _Sub:
    """A node under construction with its depth of parentheses."""

    node: Node
    depth: int
    grouped: bool = False


class _Builder(Transformer_NonRecursive[Token, Node]):
    """Lark's parse tree -> ``_ast`` nodes, counting depth and restrictions."""

    def __init__(self, limits: FilterLimits) -> None:
        super().__init__()
        self._limits = limits
        self._restrictions = 0

    def start(self, children: list[_Sub]) -> Node:
        return children[0].node

    def expression(self, children: list[_Sub]) -> _Sub:
        return _flat(And, children)

    def sequence(self, children: list[_Sub]) -> _Sub:
        return _flat(And, children)

    def factor(self, children: list[_Sub]) -> _Sub:
        return _flat(Or, children)

    def term(self, children: list[Token | _Sub]) -> _Sub:
        operand = children[-1]
        assert isinstance(operand, _Sub)
        if len(children) == 1:
            return operand
        negation = children[0]
        assert isinstance(negation, Token)
        return _Sub(Not(operand.node, negation.start_pos or 0), operand.depth)

    def negation(self, children: list[Token]) -> Token:
        return children[0]

    def composite(self, children: list[Token | _Sub]) -> _Sub:
        opening, inner = children
        assert isinstance(opening, Token) and isinstance(inner, _Sub)
        if inner.depth + 1 > self._limits.max_depth:
            raise filter_error(
                f"at character {(opening.start_pos or 0) + 1}: parentheses nest deeper "
                f"than {self._limits.max_depth} levels"
            )
        return _Sub(inner.node, inner.depth + 1, grouped=True)

    def restriction(self, children: list[object]) -> _Sub:
        self._restrictions += 1
        member = children[0]
        assert isinstance(member, tuple)
        position = member[0].position
        if self._restrictions > self._limits.max_restrictions:
            raise filter_error(
                f"at character {position + 1}: more than "
                f"{self._limits.max_restrictions} restrictions"
            )
        if len(children) == 1:
            return _Sub(Restriction(member, None, None, position), 0)
        comparator, arg = children[1], children[2]
        assert isinstance(comparator, Token)
        if not isinstance(arg, tuple):
            raise filter_error(
                f"at character {(comparator.end_pos or 0) + 1}: expected a value after "
                f"{str(comparator)!r}, found a parenthesised expression"
            )
        return _Sub(Restriction(member, str(comparator), arg, position), 0)

    def member(self, children: list[Value]) -> tuple[Value, ...]:
        return tuple(children)

    def value(self, children: list[Token]) -> Value:
        token = children[0]
        position = token.start_pos or 0
        if token.type == "STRING":
            return Value(_unescape(str(token), position), True, position)
        return Value(str(token), False, position)


def _flat(kind: type[And] | type[Or], children: list[_Sub]) -> _Sub:
    """One ``kind`` node over ``children``; an ungrouped child of the same kind is merged
    (``a AND b AND c`` is one ``And`` of three)."""
    depth = max(child.depth for child in children)
    if len(children) == 1:
        return children[0]
    operands: list[Node] = []
    for child in children:
        if isinstance(child.node, kind) and not child.grouped:
            operands.extend(child.node.operands)
        else:
            operands.append(child.node)
    return _Sub(kind(tuple(operands), operands[0].position), depth)


def _unescape(literal: str, position: int) -> str:
    body, out, index = literal[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            if escaped not in _ESCAPES:
                raise filter_error(
                    f"at character {position + index + 2}: unknown escape \\{escaped} "
                    f"in a string (known: \\\\ \\\" \\' \\n \\r \\t)"
                )
            out.append(_ESCAPES[escaped])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)
