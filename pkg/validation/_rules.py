"""Standard ``buf.validate`` rules as Python predicates over one field value.

Each predicate answers ``True`` only when protovalidate's rule would pass: the CEL
expression attached to the rule by ``(buf.validate.predefined)`` in
``api/third_party/buf/validate/validate.proto`` (``StringRules``, ``Int32Rules`` ...,
``EnumRules``, ``RepeatedRules``, ``FieldMaskRules``), as protovalidate 1.2 evaluates it
(``protovalidate/internal/rules.py``, ``extra_func.py``).  A rule this module does not
translate raises ``Unsupported`` so the whole message type is left to protovalidate.
"""

from __future__ import annotations

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
    "int32": FieldDescriptor.TYPE_INT32, "int64": FieldDescriptor.TYPE_INT64,
    "uint32": FieldDescriptor.TYPE_UINT32, "uint64": FieldDescriptor.TYPE_UINT64,
    "sint32": FieldDescriptor.TYPE_SINT32, "sint64": FieldDescriptor.TYPE_SINT64,
    "fixed32": FieldDescriptor.TYPE_FIXED32, "fixed64": FieldDescriptor.TYPE_FIXED64,
    "sfixed32": FieldDescriptor.TYPE_SFIXED32, "sfixed64": FieldDescriptor.TYPE_SFIXED64,
}


class Unsupported(Exception):
    """A rule the fast path does not translate; its message names the rule."""


_SAME_IN_PYTHON = re.compile(
    r"\^?(?:[A-Za-z0-9/_@:,=-]|\\[.\-/]|\[[^\\\[\]]+\]|\((?:\?:)?|\)|\||[*+?.]"
    r"|\{\d+(?:,\d*)?\})*\$?")


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


_UUID = _search(
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = _search(extra_func._email_regex.pattern)


def _is_email(value: str) -> bool:
    """protovalidate's ``isEmail``: its WHATWG regex, anchored at both ends."""
    return _EMAIL(value) is not None


def regex_predicate(pattern: str) -> Predicate:
    """CEL ``matches(pattern)``: whether RE2 finds ``pattern`` anywhere in the value."""
    search = _search(pattern)
    return lambda v: search(v) is not None


def _string(name: str, rule: Any) -> Predicate | None:
    """``StringRules``: lengths count code points (``size()``), bytes count UTF-8 bytes;
    ``pattern`` is RE2 ``search`` (CEL ``matches``); ``email`` is the WHATWG address form
    (protovalidate's ``isEmail``) and ``uuid`` RFC 4122 text, both refusing ``''``."""
    simple: dict[str, Predicate] = {
        "const": lambda v: v == rule, "len": lambda v: len(v) == rule,
        "min_len": lambda v: len(v) >= rule, "max_len": lambda v: len(v) <= rule,
        "len_bytes": lambda v: len(v.encode()) == rule,
        "min_bytes": lambda v: len(v.encode()) >= rule,
        "max_bytes": lambda v: len(v.encode()) <= rule,
        "prefix": lambda v: v.startswith(rule), "suffix": lambda v: v.endswith(rule),
        "contains": lambda v: rule in v, "not_contains": lambda v: rule not in v,
    }
    if name in simple:
        return simple[name]
    if name == "pattern":
        return regex_predicate(rule)
    if name in ("in", "not_in"):
        members = frozenset(rule)
        return (lambda v: v in members) if name == "in" else (lambda v: v not in members)
    if name == "example":
        return None
    if name in ("email", "uuid"):
        if not rule:
            return None
        return (lambda v: v != "" and _is_email(v)) if name == "email" else (
            lambda v: v != "" and _UUID(v) is not None)
    raise Unsupported(f"string.{name}")


def _integer(name: str, rule: Any, rules: Message) -> Predicate | None:
    """Integer rules: ``const``, ``in``, ``not_in`` and one range from ``gt``/``gte`` and
    ``lt``/``lte``; an exclusive range (upper bound below the lower) is left untranslated."""
    if name == "const":
        return lambda v: v == rule
    if name in ("in", "not_in"):
        members = frozenset(rule)
        return (lambda v: v in members) if name == "in" else (lambda v: v not in members)
    if name == "example":
        return None
    bounds = {f.name: v for f, v in rules.ListFields() if f.name in ("gt", "gte", "lt", "lte")}
    lower = next((bounds[k] for k in ("gt", "gte") if k in bounds), None)
    upper = next((bounds[k] for k in ("lt", "lte") if k in bounds), None)
    if lower is not None and upper is not None and upper < lower:
        raise Unsupported("exclusive integer range")
    checks: dict[str, Predicate] = {"gt": lambda v: v > rule, "gte": lambda v: v >= rule,
                                    "lt": lambda v: v < rule, "lte": lambda v: v <= rule}
    if name in checks:
        return checks[name]
    raise Unsupported(f"integer.{name}")


def _enum(name: str, rule: Any, field: FieldDescriptor) -> Predicate | None:
    """``EnumRules``: ``defined_only`` (a number the enum declares), ``const``, ``in``,
    ``not_in`` over enum numbers."""
    if name == "defined_only":
        if not rule:
            return None
        if field.enum_type is None:
            raise Unsupported("enum rules on a field without an enum type")
        defined = frozenset(field.enum_type.values_by_number)
        return lambda v: v in defined
    if name == "const":
        return lambda v: v == rule
    if name in ("in", "not_in"):
        members = frozenset(rule)
        return (lambda v: v in members) if name == "in" else (lambda v: v not in members)
    if name == "example":
        return None
    raise Unsupported(f"enum.{name}")


def _covered(path: str, prefixes: frozenset[str]) -> bool:
    return path in prefixes or any(path.startswith(f + ".") for f in prefixes)


def _field_mask(name: str, rule: Any) -> Predicate | None:
    """``FieldMaskRules``: ``in`` (every path listed or below a listed path), ``not_in``
    (none), ``const`` (the same paths in the same order)."""
    if name == "in":
        allowed = frozenset(rule)
        return lambda v: all(_covered(p, allowed) for p in v.paths)
    if name == "not_in":
        refused = frozenset(rule)
        return lambda v: not any(_covered(p, refused) for p in v.paths)
    if name == "const":
        paths = list(rule.paths)
        return lambda v: list(v.paths) == paths
    if name == "example":
        return None
    raise Unsupported(f"field_mask.{name}")


def value_predicates(field: FieldDescriptor, kind: str, rules: Message) -> list[Predicate]:
    """Predicates for one value of ``field`` under ``rules`` (the ``kind`` member of
    ``FieldRules``' ``type`` oneof: ``string``, ``int32`` ..., ``enum``, ``field_mask``).

    Raises ``Unsupported`` for a rule kind, a rule or a field type not translated here.
    """
    found: list[Predicate] = []
    for rule_field, rule in rules.ListFields():
        if rule_field.is_extension:
            raise Unsupported(f"predefined rule {rule_field.full_name}")
        name = rule_field.name
        if kind == "string" and field.type == FieldDescriptor.TYPE_STRING:
            predicate = _string(name, rule)
        elif _INTEGER_RULES.get(kind) == field.type:
            predicate = _integer(name, rule, rules)
        elif kind == "enum" and field.type == FieldDescriptor.TYPE_ENUM:
            predicate = _enum(name, rule, field)
        elif kind == "field_mask" and field.message_type is not None \
                and field.message_type.full_name == "google.protobuf.FieldMask":
            predicate = _field_mask(name, rule)
        else:
            raise Unsupported(f"{kind} rules on {field.full_name}")
        if predicate is not None:
            found.append(predicate)
    return found


def _at_least(n: int) -> Predicate:
    return lambda v: len(v) >= n


def _at_most(n: int) -> Predicate:
    return lambda v: len(v) <= n


def repeated_predicates(rules: Message) -> tuple[list[Predicate], validate_pb2.FieldRules | None]:
    """``RepeatedRules`` ``min_items``, ``max_items`` and ``unique`` (no two equal items)
    as predicates over the whole list, and the ``items`` rules (or ``None``)."""
    found: list[Predicate] = []
    items = None
    for rule_field, rule in rules.ListFields():
        name = rule_field.name
        if name == "min_items":
            found.append(_at_least(rule))
        elif name == "max_items":
            found.append(_at_most(rule))
        elif name == "unique":
            if rule:
                found.append(lambda v: len(set(v)) == len(v))
        elif name == "items":
            items = rule
        else:
            raise Unsupported(f"repeated.{name}")
    return found, items


def all_pass(predicates: Iterable[Predicate], value: Any) -> bool:
    """Whether every predicate accepts ``value``."""
    return all(p(value) for p in predicates)
