"""Compile a message type's ``buf.validate`` rules into one Python check.

A check answers ``True`` only when protovalidate would find no violation and no string at
any depth holds U+0000; ``False`` means "let protovalidate judge".  Rule semantics follow
protovalidate 1.2 (``protovalidate/internal/rules.py``): a field with presence that is unset,
or a field with ``ignore = IGNORE_IF_ZERO_VALUE`` holding its zero value, skips its rules;
``required`` fails on an unset or zero field; set submessages are validated with their own
rules; repeated items and ``items`` rules are checked one by one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from buf.validate import validate_pb2
from pkg.validation._rules import (
    Predicate,
    Unsupported,
    regex_predicate,
    repeated_predicates,
    value_predicates,
)

Check = Callable[[Any], bool]
_MATCHES = re.compile(
    r"^\s*this((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\.matches\(\s*'([^'\\]*)'\s*\)\s*$")
_NO_STRINGS = frozenset({"google.protobuf.Timestamp", "google.protobuf.Duration"})


def _cel(expression: str, descriptor: Descriptor | None, field: FieldDescriptor | None) -> Check:
    """A ``cel`` rule of the one form the contracts use, ``this[.f...].matches('re')``
    on a string (CEL ``matches`` is RE2 search); any other expression is ``Unsupported``.
    An unset message on the path answers ``False`` (protovalidate judges)."""
    found = _MATCHES.match(expression)
    if found is None:
        raise Unsupported(f"cel expression {expression!r}")
    names = [n for n in found.group(1).split(".") if n]
    matches = regex_predicate(found.group(2))
    target = field
    for name in names:
        owner = descriptor if target is None else target.message_type
        if owner is None or name not in owner.fields_by_name:
            raise Unsupported(f"cel path {found.group(1)!r}")
        target = owner.fields_by_name[name]
        if target.is_repeated:
            raise Unsupported(f"cel path {found.group(1)!r} crosses a repeated field")
    if target is None or target.type != FieldDescriptor.TYPE_STRING or target.is_repeated:
        raise Unsupported(f"cel expression {expression!r} is not on a string")
    *parents, leaf = names or [""]

    def check(value: Any) -> bool:
        for name in parents:
            if not value.HasField(name):
                return False
            value = getattr(value, name)
        return matches(getattr(value, leaf) if leaf else value)

    return check


def _cel_checks(rules: Any, descriptor: Descriptor | None,
                field: FieldDescriptor | None) -> list[Check]:
    if len(rules.cel_expression):
        raise Unsupported("cel_expression")
    return [_cel(rule.expression, descriptor, field) for rule in rules.cel]


def _no_nul(field: FieldDescriptor) -> Check | None:
    name = field.name
    if field.type == FieldDescriptor.TYPE_STRING:
        if field.is_repeated:
            return lambda m: not any("\x00" in s for s in getattr(m, name))
        return lambda m: "\x00" not in getattr(m, name)
    return None


def _all_of(checks: list[Check]) -> Check:
    """One check passing when every check of ``checks`` (a list still being filled while a
    recursive type compiles) passes, first failure first."""

    def check(value: Any) -> bool:
        for one in checks:
            if not one(value):
                return False
        return True

    return check


class Compiler:
    """Builds and caches one check per message type (by full name), recursively."""

    def __init__(self) -> None:
        self._checks: dict[str, list[Check]] = {}

    def compile(self, descriptor: Descriptor) -> Check:
        """The check of ``descriptor``'s messages; raises ``Unsupported`` when any rule of
        the type or of a type it contains is not translated."""
        return _all_of(self._compiled(descriptor))

    def _compiled(self, descriptor: Descriptor) -> list[Check]:
        if descriptor.full_name in self._checks:
            return self._checks[descriptor.full_name]
        checks: list[Check] = []
        self._checks[descriptor.full_name] = checks
        try:
            checks.extend(self._build(descriptor))
        except Unsupported:
            del self._checks[descriptor.full_name]
            raise
        return checks

    def _build(self, descriptor: Descriptor) -> list[Check]:
        checks: list[Check] = []
        options = descriptor.GetOptions()
        if options.HasExtension(validate_pb2.message):
            message_rules = options.Extensions[validate_pb2.message]
            if len(message_rules.oneof):
                raise Unsupported("message oneof rule")
            checks.extend(_cel_checks(message_rules, descriptor, None))
        for oneof in descriptor.oneofs:
            if oneof.GetOptions().HasExtension(validate_pb2.oneof):
                raise Unsupported("oneof rule")
        for field in descriptor.fields:
            nul = _no_nul(field)
            if nul is not None:
                checks.append(nul)
            if field.GetOptions().HasExtension(validate_pb2.field):
                checks.extend(self._field(field, field.GetOptions().Extensions[validate_pb2.field]))
            if field.message_type is not None:
                checks.extend(self._descend(field))
        return checks

    def _descend(self, field: FieldDescriptor) -> list[Check]:
        message_type = field.message_type
        name = field.name
        if message_type is None:
            raise Unsupported(f"{field.full_name} has no message type")
        if message_type.GetOptions().map_entry:
            key, value = message_type.fields_by_name["key"], message_type.fields_by_name["value"]
            if value.message_type is not None:
                raise Unsupported("map of messages")
            key_text = key.type == FieldDescriptor.TYPE_STRING
            value_text = value.type == FieldDescriptor.TYPE_STRING
            if key_text or value_text:
                return [lambda m: not any(
                    (key_text and "\x00" in k) or (value_text and "\x00" in v)
                    for k, v in getattr(m, name).items())]
            return []
        if message_type.full_name in _NO_STRINGS and not \
                message_type.GetOptions().HasExtension(validate_pb2.message):
            return []
        inner = _all_of(self._compiled(message_type))
        if field.is_repeated:
            return [lambda m: all(inner(item) for item in getattr(m, name))]
        return [lambda m: not m.HasField(name) or inner(getattr(m, name))]

    def _field(self, field: FieldDescriptor, rules: Any) -> list[Check]:
        if rules.ignore == validate_pb2.IGNORE_ALWAYS:
            raise Unsupported("ignore = IGNORE_ALWAYS")
        name = field.name
        required = rules.required
        ignore_zero = rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE
        kind = rules.WhichOneof("type")
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            if kind is not None or len(rules.cel) or len(rules.cel_expression):
                raise Unsupported("map rules")
            if required:
                return [lambda m: len(getattr(m, name)) > 0]
            return []
        if field.is_repeated:
            return [self._repeated(field, rules, kind, required, ignore_zero)]
        predicates: list[Predicate] = []
        if kind is not None:
            predicates.extend(value_predicates(field, kind, getattr(rules, kind)))
        predicates.extend(_cel_checks(rules, None, field))
        ignore_empty = ignore_zero or field.has_presence
        if field.has_presence:
            def is_empty(m: Any) -> bool:
                return not m.HasField(name)
        else:
            default = field.default_value

            def is_empty(m: Any) -> bool:
                return bool(getattr(m, name) == default)

        def check(m: Any) -> bool:
            if is_empty(m):
                if required:
                    return False
                if ignore_empty:
                    return True
            value = getattr(m, name)
            for predicate in predicates:
                if not predicate(value):
                    return False
            return True

        return [check]

    def _repeated(self, field: FieldDescriptor, rules: Any, kind: str | None, required: bool,
                  ignore_zero: bool) -> Check:
        name = field.name
        whole: list[Predicate] = []
        items: list[Predicate] = []
        skip_zero_items = False
        if kind == "repeated":
            whole, item_rules = repeated_predicates(rules.repeated)
            if field.message_type is not None and rules.repeated.unique:
                raise Unsupported("repeated.unique on messages")
            if item_rules is not None:
                if item_rules.required or item_rules.ignore == validate_pb2.IGNORE_ALWAYS:
                    raise Unsupported("repeated.items required or ignored")
                skip_zero_items = item_rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE
                item_kind = item_rules.WhichOneof("type")
                if item_kind == "enum" and item_rules.enum.defined_only:
                    raise Unsupported("repeated.items.enum.defined_only (protovalidate 1.2 "
                                      "does not check it on items)")
                if item_kind is not None:
                    items.extend(value_predicates(field, item_kind, getattr(item_rules, item_kind)))
                items.extend(_cel_checks(item_rules, None, field))
        elif kind is not None:
            raise Unsupported(f"{kind} rules on repeated {field.full_name}")
        whole.extend(_cel_checks(rules, None, None))

        def check(m: Any) -> bool:
            values = getattr(m, name)
            if not values:
                if required:
                    return False
                if ignore_zero:
                    return True
            if not all(p(values) for p in whole):
                return False
            return all(p(v) for v in values if not (skip_zero_items and not v) for p in items)

        return check
