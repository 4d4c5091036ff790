"""Standard ``buf.validate`` rules as Python tests with protovalidate's own violations.

Each rule field set in a ``FieldRules`` type message (``StringRules.min_len``,
``Int32Rules.gte`` ...) carries one or more CEL rules through ``(buf.validate.predefined)``
in ``api/third_party/buf/validate/validate.proto``.  ``standard_rules`` turns each of them,
by its rule id, into a ``Standard``: a Python test with the CEL's meaning (as protovalidate
1.2 evaluates it: ``protovalidate/internal/rules.py``, ``extra_func.py``) and the violation
the rule reports, whose id comes from the proto and whose message is the proto's
``message`` or its ``'...'.format([...])`` template filled as CEL's ``format`` does
(``string_format.py``).  A rule id not translated here raises ``Unsupported``, so the whole
message type is left to protovalidate.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

import re2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from protovalidate.internal import extra_func

from buf.validate import validate_pb2

Predicate = Callable[[Any], bool]

_INTEGER_RULES = {
    "int32": FieldDescriptor.TYPE_INT32,
    "int64": FieldDescriptor.TYPE_INT64,
    "uint32": FieldDescriptor.TYPE_UINT32,
    "uint64": FieldDescriptor.TYPE_UINT64,
    "sint32": FieldDescriptor.TYPE_SINT32,
    "sint64": FieldDescriptor.TYPE_SINT64,
    "fixed32": FieldDescriptor.TYPE_FIXED32,
    "fixed64": FieldDescriptor.TYPE_FIXED64,
    "sfixed32": FieldDescriptor.TYPE_SFIXED32,
    "sfixed64": FieldDescriptor.TYPE_SFIXED64,
}


class Unsupported(Exception):
    """A rule the fast path does not translate; its message names the rule."""


@dataclasses.dataclass(frozen=True, slots=True)
class Standard:
    """One CEL rule of a standard rule: ``passes(value)`` is its verdict; on failure the
    violation has ``rule_id``, ``message`` and the rule path ``rule`` (outermost first,
    e.g. ``string.min_len`` or ``repeated.items.enum.in``)."""

    passes: Predicate
    rule_id: str
    message: str
    rule: validate_pb2.FieldPath


def element(field: FieldDescriptor) -> validate_pb2.FieldPathElement:
    """The path element protovalidate writes for ``field`` (number, name, type)."""
    name = f"[{field.full_name}]" if field.is_extension else field.name
    return validate_pb2.FieldPathElement(
        field_number=field.number,
        field_name=name,
        field_type=field.type,  # type: ignore[arg-type]
    )


def rule_element(name: str) -> validate_pb2.FieldPathElement:
    """The path element of ``FieldRules.<name>`` (``required``, ``string``, ``repeated``)."""
    return element(validate_pb2.FieldRules.DESCRIPTOR.fields_by_name[name])


_SAME_IN_PYTHON = re.compile(
    r"\^?(?:[A-Za-z0-9/_@:,=-]|\\[.\-/]|\[[^\\\[\]]+\]|\((?:\?:)?|\)|\||[*+?.]"
    r"|\{\d+(?:,\d*)?\})*\$?"
)


def _search(pattern: str) -> Callable[[str], object]:
    """RE2 ``search`` for ``pattern``, through Python's ``re`` when the pattern sticks to a
    subset both engines read alike (ASCII literals and classes, groups, alternation,
    quantifiers, ``^`` first and ``$`` last, the latter as ``\\Z`` since Python's ``$`` also
    matches before a final newline); otherwise through ``re2`` itself."""
    if _SAME_IN_PYTHON.fullmatch(pattern) and "[[" not in pattern:
        if pattern.endswith("$") and not pattern.endswith("\\$"):
            pattern = pattern[:-1] + r"\Z"
        try:
            return re.compile(pattern).search
        except re.error:
            pass
    try:
        return re2.compile(pattern).search
    except re2.error as exc:
        raise Unsupported(f"pattern {pattern!r} does not compile") from exc


_EMAIL = _search(extra_func._email_regex.pattern)
_UUID = _search("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def regex_predicate(pattern: str) -> Predicate:
    """CEL ``matches(pattern)``: whether RE2 finds ``pattern`` anywhere in the value."""
    search = _search(pattern)
    return lambda v: search(v) is not None


def cel_text(value: Any) -> str:
    """``value`` as CEL's ``format`` writes it for ``%s``/``%d``: integers in decimal,
    ``true``/``false``, strings as they are, lists as ``[a, b]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, Iterable):
        return "[" + ", ".join(cel_text(v) for v in value) + "]"
    raise Unsupported(f"formatting {type(value).__name__}")


_TEMPLATE = re.compile(r"\?\s*'((?:[^'\\]|\\.)*)'\.format\(")


def _message(rule: validate_pb2.Rule, args: tuple[Any, ...]) -> str:
    """The violation message of ``rule``: its ``message``, or its expression's
    ``'template'.format([args])`` with ``%s``/``%d`` filled by ``cel_text``."""
    if rule.message:
        return rule.message
    found = _TEMPLATE.search(rule.expression)
    if found is None:
        raise Unsupported(f"message of {rule.id}")
    pieces = re.split(r"(%%|%[sd])", found.group(1))
    values = iter(args)
    text = []
    for piece in pieces:
        if piece == "%%":
            text.append("%")
        elif piece in ("%s", "%d"):
            text.append(cel_text(next(values)))
        else:
            text.append(piece)
    return "".join(text)


Translation = tuple[Predicate, tuple[Any, ...]] | None
"""A rule id's test and ``format`` arguments; ``None`` when the rule cannot fail."""


def _members(rule: Any, member: bool) -> Predicate:
    values = frozenset(rule)
    return (lambda v: v in values) if member else (lambda v: v not in values)


def _string(rule_id: str, rule: Any) -> Translation:
    """``StringRules``: lengths count code points (``size()``), bytes UTF-8 bytes;
    ``pattern`` is RE2 ``search`` (CEL ``matches``); ``email`` is the WHATWG address form
    (protovalidate's ``isEmail``), ``uuid`` RFC 4122 text; each of the two refuses ``''``
    under its ``*_empty`` id."""
    simple: dict[str, Predicate] = {
        "const": lambda v: v == rule,
        "len": lambda v: len(v) == rule,
        "min_len": lambda v: len(v) >= rule,
        "max_len": lambda v: len(v) <= rule,
        "len_bytes": lambda v: len(v.encode()) == rule,
        "min_bytes": lambda v: len(v.encode()) >= rule,
        "max_bytes": lambda v: len(v.encode()) <= rule,
        "prefix": lambda v: v.startswith(rule),
        "suffix": lambda v: v.endswith(rule),
        "contains": lambda v: rule in v,
        "not_contains": lambda v: rule not in v,
    }
    name = rule_id.removeprefix("string.")
    if name in simple:
        return simple[name], (rule,)
    if name == "pattern":
        return regex_predicate(rule), (rule,)
    if name in ("in", "not_in"):
        return _members(rule, name == "in"), (list(rule),)
    if name in ("email", "uuid", "email_empty", "uuid_empty", "example"):
        if name == "example" or not rule:
            return None
        if name.endswith("_empty"):
            return (lambda v: v != ""), ()
        if name == "email":
            return (lambda v: v == "" or _EMAIL(v) is not None), ()
        return (lambda v: v == "" or _UUID(v) is not None), ()
    raise Unsupported(rule_id)


_LOWER = {
    "gt": (lambda v, b: v > b, "greater than"),
    "gte": (lambda v, b: v >= b, "greater than or equal to"),
}
_UPPER = {
    "lt": (lambda v, b: v < b, "less than"),
    "lte": (lambda v, b: v <= b, "less than or equal to"),
}


def _range(rule_id: str, rules: Message) -> Translation:
    """One CEL rule of a bound (``gt``, ``gte``, ``lt``, ``lte``) with the CEL's own
    conditions: a lower bound alone, an upper bound alone, or ``lower_upper`` (a range
    when upper >= lower) and ``lower_upper_exclusive`` (outside it when upper < lower)
    when both are set; a rule whose condition does not hold for ``rules`` never fails."""
    name = rule_id.split(".", 1)[1]
    bounds = {f.name: v for f, v in rules.ListFields() if f.name in ("gt", "gte", "lt", "lte")}
    parts = name.split("_")
    if parts[0] in _UPPER and len(parts) == 1:
        if "gt" in bounds or "gte" in bounds:
            return None
        test, bound = _UPPER[parts[0]][0], bounds[parts[0]]
        return (lambda v: test(v, bound)), (bound,)
    if parts[0] not in _LOWER or len(parts) > 3 or (len(parts) == 3 and parts[2] != "exclusive"):
        raise Unsupported(rule_id)
    low_test, low = _LOWER[parts[0]][0], bounds[parts[0]]
    if len(parts) == 1:
        if "lt" in bounds or "lte" in bounds:
            return None
        return (lambda v: low_test(v, low)), (low,)
    if parts[1] not in _UPPER:
        raise Unsupported(rule_id)
    if parts[1] not in bounds:
        return None
    high_test, high = _UPPER[parts[1]][0], bounds[parts[1]]
    exclusive = len(parts) == 3
    if exclusive != (high < low):
        return None
    if exclusive:
        return (lambda v: low_test(v, low) or high_test(v, high)), (low, high)
    return (lambda v: low_test(v, low) and high_test(v, high)), (low, high)


def _number(rule_id: str, rule: Any, rules: Message) -> Translation:
    """Integer and enum rules: ``const``, ``in``, ``not_in`` and the bounds."""
    name = rule_id.split(".", 1)[1]
    if name == "const":
        return (lambda v: v == rule), (rule,)
    if name in ("in", "not_in"):
        return _members(rule, name == "in"), (list(rule),)
    if name == "example":
        return None
    if rule_id.startswith("enum."):
        raise Unsupported(rule_id)
    return _range(rule_id, rules)


def _covered(path: str, prefixes: frozenset[str]) -> bool:
    return path in prefixes or any(path.startswith(f + ".") for f in prefixes)


def _field_mask(rule_id: str, rule: Any) -> Translation:
    """``FieldMaskRules``: ``in`` (every path listed or below a listed path), ``not_in``
    (none), ``const`` (the same paths in the same order)."""
    name = rule_id.removeprefix("field_mask.")
    if name == "in":
        allowed = frozenset(rule)
        return (lambda v: all(_covered(p, allowed) for p in v.paths)), (list(rule),)
    if name == "not_in":
        refused = frozenset(rule)
        return (lambda v: not any(_covered(p, refused) for p in v.paths)), (list(rule),)
    if name == "const":
        paths = list(rule.paths)
        return (lambda v: list(v.paths) == paths), (paths,)
    if name == "example":
        return None
    raise Unsupported(rule_id)


def _unique(values: Any) -> bool:
    """No two equal items; a duplicate among the first 64 answers without reading the rest
    (a huge list of one repeated value is the cheap attack)."""
    head = values[:64]
    if len(set(head)) < len(head):
        return False
    return len(set(values)) == len(values)


def unique_by(name: str) -> Predicate:
    """CEL ``items.map(v, v.<name>).unique()`` on a list of messages: no two items with
    equal ``name`` fields (protovalidate's ``unique`` compares the mapped values as a
    set); as ``_unique``, a duplicate among the first 64 items answers without reading
    the rest."""
    read = operator.attrgetter(name)

    def unique(items: Any) -> bool:
        head = set(map(read, items[:64]))
        if len(head) < min(len(items), 64):
            return False
        return len(items) <= 64 or len(set(map(read, items))) == len(items)

    return unique


def _repeated(rule_id: str, rule: Any) -> Translation:
    """``RepeatedRules`` ``min_items``, ``max_items`` and ``unique`` (no two equal items)
    over the whole list."""
    if rule_id == "repeated.min_items":
        return (lambda v: len(v) >= rule), (rule,)
    if rule_id == "repeated.max_items":
        return (lambda v: len(v) <= rule), (rule,)
    if rule_id == "repeated.unique":
        return (_unique, ()) if rule else None
    raise Unsupported(rule_id)


def _map(rule_id: str, rule: Any) -> Translation:
    """``MapRules`` ``min_pairs`` and ``max_pairs`` over the whole map."""
    if rule_id == "map.min_pairs":
        return (lambda v: len(v) >= rule), (rule,)
    if rule_id == "map.max_pairs":
        return (lambda v: len(v) <= rule), (rule,)
    raise Unsupported(rule_id)


def is_map(field: FieldDescriptor) -> bool:
    """Whether ``field`` is a map field."""
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _applies(kind: str, field: FieldDescriptor) -> bool:
    if kind == "string":
        return field.type == FieldDescriptor.TYPE_STRING
    if kind in _INTEGER_RULES:
        return _INTEGER_RULES[kind] == field.type
    if kind == "enum":
        return field.type == FieldDescriptor.TYPE_ENUM
    if kind == "field_mask":
        return (
            field.message_type is not None
            and field.message_type.full_name == "google.protobuf.FieldMask"
        )
    if kind == "map":
        return is_map(field)
    return kind == "repeated" and field.is_repeated and not is_map(field)


def _translate(kind: str, rule_id: str, rule: Any, rules: Message) -> Translation:
    if kind == "string":
        return _string(rule_id, rule)
    if kind == "field_mask":
        return _field_mask(rule_id, rule)
    if kind == "repeated":
        return _repeated(rule_id, rule)
    if kind == "map":
        return _map(rule_id, rule)
    return _number(rule_id, rule, rules)


def standard_rules(
    field: FieldDescriptor,
    kind: str,
    rules: Message,
    prefix: Iterable[validate_pb2.FieldPathElement] = (),
) -> list[Standard]:
    """The CEL rules of ``rules`` (the ``kind`` member of ``FieldRules``' ``type`` oneof:
    ``string``, ``int32`` ..., ``enum``, ``field_mask``, ``repeated``, ``map``; the
    ``repeated.items`` and ``map.keys``/``map.values`` rules are not among them) on values
    of ``field``, in protovalidate's order: rule fields by number, then each field's CEL
    rules in proto order.  Rule paths start with ``prefix``
    (``repeated.items`` for item rules).

    Raises ``Unsupported`` for a rule kind, a rule, a predefined extension or a field type
    not translated here.
    """
    if not _applies(kind, field):
        raise Unsupported(f"{kind} rules on {field.full_name}")
    kind_element = rule_element(kind)
    found: list[Standard] = []
    for rule_field, rule in rules.ListFields():
        if rule_field.is_extension:
            raise Unsupported(f"predefined rule {rule_field.full_name}")
        if (kind, rule_field.name) in (("repeated", "items"), ("map", "keys"), ("map", "values")):
            continue
        path = validate_pb2.FieldPath(elements=[*prefix, kind_element, element(rule_field)])
        options = rule_field.GetOptions()
        for cel in options.Extensions[validate_pb2.predefined].cel:
            translated = _translate(kind, cel.id, rule, rules)
            if translated is not None:
                passes, args = translated
                found.append(Standard(passes, cel.id, _message(cel, args), path))
    return found
