"""Compile a message type's ``buf.validate`` rules into one Python check that collects
protovalidate's violations.

A check is ``check(message, found)``: it appends one ``Found`` per violation to ``found`` in
protovalidate 1.2's order (``protovalidate/internal/rules.py``: message ``cel``, message
``oneof``, ``oneof`` rules, then each field in declaration order, its own rules before its
submessage's).  Semantics follow protovalidate: a field with presence that is unset, or a
field with ``ignore = IGNORE_IF_ZERO_VALUE`` holding its zero value, skips its rules;
``required`` fails on an unset or zero field; set submessages, repeated message items and
map message values are validated with their own rules, their violations' field paths
prefixed with the parent field (and index or key).  Loops over repeated items and map
entries stop once ``found.limit`` violations are collected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor

from buf.validate import validate_pb2
from pkg.validation._rules import (
    Standard,
    Unsupported,
    element,
    is_map,
    regex_predicate,
    rule_element,
    standard_rules,
    unique_by,
)

Path = tuple[validate_pb2.FieldPathElement, ...]


class Found:
    """One violation before it becomes a ``buf.validate.Violation``: the field path
    (outermost element first), the rule path or ``None``, the rule id, the message and
    ``for_key`` (``None`` where protovalidate leaves it unset)."""

    __slots__ = ("for_key", "message", "path", "rule", "rule_id")

    def __init__(
        self,
        path: Path,
        rule: validate_pb2.FieldPath | None,
        rule_id: str,
        message: str,
        for_key: bool | None = False,
    ) -> None:
        self.path, self.rule, self.rule_id = path, rule, rule_id
        self.message, self.for_key = message, for_key

    def to_proto(self) -> validate_pb2.Violation:
        """The ``buf.validate.Violation`` protovalidate reports for this violation."""
        violation = validate_pb2.Violation(rule_id=self.rule_id, message=self.message)
        if self.path:
            violation.field.elements.extend(self.path)
        if self.rule is not None:
            violation.rule.CopyFrom(self.rule)
        if self.for_key is not None:
            violation.for_key = self.for_key
        return violation


class Sink(list[Found]):
    """The violations of one message, with the count after which loops stop."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit


Check = Callable[[Any, Sink], None]
_THIS = r"^\s*this((?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
_MATCHES = re.compile(_THIS + r"\.matches\(\s*'([^'\\]*)'\s*\)\s*$")
_UNIQUE_BY = re.compile(
    _THIS + r"\.map\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*\2\.([A-Za-z_][A-Za-z0-9_]*)\s*\)"
    r"\.unique\(\)\s*$"
)
_NOT_A_VARIABLE = frozenset(
    # CEL's reserved words and the names protovalidate binds (cel-spec langdef.md).
    "as break const continue else false for function if import in let loop namespace "
    "null package return true var void while this rules rule now".split()
)
_UNIQUE_KEY_TYPES = frozenset(
    [
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_BOOL,
        FieldDescriptor.TYPE_ENUM,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    ]
)
_REQUIRED = validate_pb2.FieldPath(elements=[rule_element("required")])
_DEFINED_ONLY = validate_pb2.FieldPath(
    elements=[
        rule_element("enum"),
        element(validate_pb2.EnumRules.DESCRIPTOR.fields_by_name["defined_only"]),
    ]
)
_ITEMS = (
    rule_element("repeated"),
    element(validate_pb2.RepeatedRules.DESCRIPTOR.fields_by_name["items"]),
)
_KEYS = (rule_element("map"), element(validate_pb2.MapRules.DESCRIPTOR.fields_by_name["keys"]))
_VALUES = (rule_element("map"), element(validate_pb2.MapRules.DESCRIPTOR.fields_by_name["values"]))


def _indexed(base: validate_pb2.FieldPathElement, index: int) -> validate_pb2.FieldPathElement:
    found = validate_pb2.FieldPathElement()
    found.CopyFrom(base)
    found.index = index
    return found


def _keyed(
    base: validate_pb2.FieldPathElement, field: FieldDescriptor, key: Any
) -> validate_pb2.FieldPathElement:
    """``base`` subscripted by a map ``key`` as protovalidate writes it."""
    found = validate_pb2.FieldPathElement()
    found.CopyFrom(base)
    entry: Any = field.message_type
    key_field = entry.fields_by_name["key"]
    found.key_type = key_field.type
    found.value_type = entry.fields_by_name["value"].type
    if key_field.type == FieldDescriptor.TYPE_BOOL:
        found.bool_key = key
    elif key_field.type == FieldDescriptor.TYPE_STRING:
        found.string_key = key
    elif key_field.type in (
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
    ):
        found.uint_key = key
    else:
        found.int_key = key
    return found


def _under(found: Sink, start: int, parent: validate_pb2.FieldPathElement) -> None:
    for one in found[start:]:
        one.path = (parent, *one.path)


class _Cel:
    """A ``cel`` rule of one of the forms the contracts use; any other expression is
    ``Unsupported``:

    - ``this[.f...].matches('re')`` on a string (CEL ``matches`` is RE2 search);
    - ``this[.f...].map(v, v.g).unique()`` on a list of messages (``this`` itself for a
      rule on a repeated message field): no two items with equal ``g``, a string, bool,
      integer or enum field of the item (protovalidate's ``unique``, a set of the values).

    An unset message on the path reads as its zero value, as in protovalidate.
    """

    def __init__(
        self,
        rule: validate_pb2.Rule,
        path: validate_pb2.FieldPath | None,
        descriptor: Descriptor | None,
        field: FieldDescriptor | None,
        item: bool = False,
    ) -> None:
        matches, unique = _MATCHES.match(rule.expression), _UNIQUE_BY.match(rule.expression)
        found = matches or unique
        if found is None or (unique is not None and unique.group(2) in _NOT_A_VARIABLE):
            raise Unsupported(f"cel expression {rule.expression!r}")
        self.names = [n for n in found.group(1).split(".") if n]
        target = _cel_target(found.group(1), descriptor, field, item)
        is_list = target is not None and target.is_repeated and not (item and not self.names)
        if matches is not None:
            if target is None or target.type != FieldDescriptor.TYPE_STRING or is_list:
                raise Unsupported(f"cel expression {rule.expression!r} is not on a string")
            self.test = regex_predicate(matches.group(2))
        else:
            if target is None or not is_list or target.message_type is None or is_map(target):
                raise Unsupported(f"cel expression {rule.expression!r} is not on a message list")
            item_type = target.message_type
            key = item_type.fields_by_name.get(found.group(3))
            if (
                item_type.full_name.startswith("google.protobuf.")
                or key is None
                or key.is_repeated
                or key.type not in _UNIQUE_KEY_TYPES
            ):
                raise Unsupported(f"cel expression {rule.expression!r}: not a scalar item field")
            self.test = unique_by(key.name)
        self.rule, self.rule_id = path, rule.id
        self.message = rule.message or f'"{rule.expression}" returned false'

    def passes(self, value: Any) -> bool:
        """Whether the expression is true for ``value`` (the message or field value)."""
        for name in self.names:
            value = getattr(value, name)
        return self.test(value)


def _cel_target(
    text: str, descriptor: Descriptor | None, field: FieldDescriptor | None, item: bool
) -> FieldDescriptor | None:
    """The field ``this`` + ``text`` (``.f.g``) reads, from the message ``descriptor`` or
    the value of ``field`` (one item of it when ``item``); ``None`` for the message
    itself.  Each step reads a field of a message, not of a list or a well-known type."""
    target = field
    for name in (n for n in text.split(".") if n):
        owner = descriptor if target is None else target.message_type
        in_list = target is not None and target.is_repeated and not (item and target is field)
        if (
            in_list
            or owner is None
            or name not in owner.fields_by_name
            or owner.full_name.startswith("google.protobuf.")
        ):
            raise Unsupported(f"cel path {text!r}")
        target = owner.fields_by_name[name]
    return target


def _cels(
    rules: Any, descriptor: Descriptor | None, field: FieldDescriptor | None, prefix: Path = ()
) -> list[_Cel]:
    """The ``cel_expression`` then ``cel`` rules of ``rules`` (field-level paths
    ``[prefix.]cel_expression[i]``/``cel[i]``; none for a message's rules)."""
    found = []
    for name in ("cel_expression", "cel"):
        for index, rule in enumerate(getattr(rules, name)):
            if isinstance(rule, str):
                rule = validate_pb2.Rule(id=rule, expression=rule)
            path = (
                None
                if descriptor is not None
                else validate_pb2.FieldPath(elements=[*prefix, _indexed(rule_element(name), index)])
            )
            found.append(_Cel(rule, path, descriptor, field, bool(prefix)))
    return found


def _judge(
    value: Any,
    path: Path,
    standards: list[Standard],
    cels: list[_Cel],
    found: Sink,
    for_key: bool = False,
) -> None:
    # Stops at ``found.limit``: a later rule (``unique`` over a whole list) is not
    # computed for violations nobody will read.
    for standard in standards:
        if not standard.passes(value):
            found.append(Found(path, standard.rule, standard.rule_id, standard.message, for_key))
            if len(found) >= found.limit:
                return
    for cel in cels:
        if not cel.passes(value):
            found.append(Found(path, cel.rule, cel.rule_id, cel.message, for_key))
            if len(found) >= found.limit:
                return


def _all_of(checks: list[Check]) -> Check:
    """One check running the checks of ``checks`` (a list still being filled while a
    recursive type compiles) in order, until ``found`` holds its limit: ``is_valid``
    (limit 1) of a list far over its ``max_items`` stops at that violation instead of
    checking every item."""

    def check(value: Any, found: Sink) -> None:
        for one in checks:
            if len(found) >= found.limit:
                return
            one(value, found)

    return check


class _Values:
    """The rules of one value kind (``repeated.items``, ``map.keys``, ``map.values``):
    standard and ``cel`` rules, and whether zero values skip them."""

    def __init__(
        self, field: FieldDescriptor, rules: validate_pb2.FieldRules, prefix: Path
    ) -> None:
        if rules.required or rules.ignore == validate_pb2.IGNORE_ALWAYS:
            raise Unsupported(f"{field.full_name}: items required or ignored")
        kind = rules.WhichOneof("type")
        if kind == "enum" and rules.enum.defined_only:
            raise Unsupported(
                "repeated.items.enum.defined_only (protovalidate 1.2 does not check it on items)"
            )
        self.skip_zero = rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE
        self.standards = (
            [] if kind is None else standard_rules(field, kind, getattr(rules, kind), prefix)
        )
        self.cels = _cels(rules, None, field, prefix)

    def __bool__(self) -> bool:
        return bool(self.standards or self.cels)


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
        in_message_oneof: set[str] = set()
        options = descriptor.GetOptions()
        if options.HasExtension(validate_pb2.message):
            message_rules = options.Extensions[validate_pb2.message]
            cels = _cels(message_rules, descriptor, None)
            if cels:
                checks.append(lambda m, found: _judge(m, (), [], cels, found))
            for oneof_rule in message_rules.oneof:
                checks.append(_message_oneof(descriptor, oneof_rule))
                in_message_oneof.update(oneof_rule.fields)
        for oneof in descriptor.oneofs:
            if oneof.GetOptions().HasExtension(validate_pb2.oneof):
                checks.extend(_oneof(oneof, oneof.GetOptions().Extensions[validate_pb2.oneof]))
        for field in descriptor.fields:
            field_options = field.GetOptions()
            if field_options.HasExtension(validate_pb2.field):
                rules: validate_pb2.FieldRules = field_options.Extensions[validate_pb2.field]
                if field.name in in_message_oneof and not rules.HasField("ignore"):
                    rules = _ignoring_zero(rules)
                if rules.ignore == validate_pb2.IGNORE_ALWAYS:
                    continue
                checks.append(self._field(field, rules))
                if rules.repeated.items.ignore == validate_pb2.IGNORE_ALWAYS:
                    continue
            if field.message_type is not None:
                checks.extend(self._descend(field))
        return checks

    def _descend(self, field: FieldDescriptor) -> list[Check]:
        name = field.name
        base = element(field)
        message_type: Any = field.message_type
        if is_map(field):
            value_field = message_type.fields_by_name["value"]
            if value_field.message_type is None:
                return []
            inner_checks = self._compiled(value_field.message_type)
            inner = _all_of(inner_checks)

            def check_map(m: Any, found: Sink) -> None:
                if not inner_checks:
                    return
                for key, value in getattr(m, name).items():
                    start = len(found)
                    inner(value, found)
                    if len(found) > start:
                        _under(found, start, _keyed(base, field, key))
                    if len(found) >= found.limit:
                        return

            return [check_map]
        inner_checks = self._compiled(message_type)
        inner = _all_of(inner_checks)
        if field.is_repeated:

            def check_items(m: Any, found: Sink) -> None:
                if not inner_checks:
                    return
                for index, item in enumerate(getattr(m, name)):
                    start = len(found)
                    inner(item, found)
                    if len(found) > start:
                        _under(found, start, _indexed(base, index))
                    if len(found) >= found.limit:
                        return

            return [check_items]

        def check_one(m: Any, found: Sink) -> None:
            if inner_checks and m.HasField(name):
                start = len(found)
                inner(getattr(m, name), found)
                _under(found, start, base)

        return [check_one]

    def _field(self, field: FieldDescriptor, rules: validate_pb2.FieldRules) -> Check:
        kind = rules.WhichOneof("type")
        if is_map(field):
            return _map(field, rules, kind)
        if field.is_repeated:
            if kind not in (None, "repeated"):
                raise Unsupported(f"{kind} rules on repeated {field.full_name}")
            return _repeated(field, rules)
        if (
            kind is not None
            and field.message_type is not None
            and field.message_type.full_name != "google.protobuf.FieldMask"
        ):
            raise Unsupported(f"{kind} rules on {field.full_name}")
        standards = [] if kind is None else standard_rules(field, kind, getattr(rules, kind))
        return _singular(
            field,
            rules,
            standards,
            _cels(rules, None, field),
            kind == "enum" and rules.enum.defined_only,
        )


def _ignoring_zero(rules: validate_pb2.FieldRules) -> validate_pb2.FieldRules:
    copy = validate_pb2.FieldRules()
    copy.CopyFrom(rules)
    copy.ignore = validate_pb2.IGNORE_IF_ZERO_VALUE
    return copy


def _is_empty(field: FieldDescriptor) -> Callable[[Any], bool]:
    name = field.name
    if field.has_presence:
        return lambda m: not m.HasField(name)
    if field.is_repeated:
        return lambda m: len(getattr(m, name)) == 0
    default = field.default_value
    return lambda m: bool(getattr(m, name) == default)


def _required(path: Path) -> Found:
    return Found(path, _REQUIRED, "required", "value is required", None)


def _singular(
    field: FieldDescriptor,
    rules: validate_pb2.FieldRules,
    standards: list[Standard],
    cels: list[_Cel],
    defined_only: bool,
) -> Check:
    """``FieldRules``/``EnumRules.validate``: ``required``, the zero-value skip, the rules;
    ``enum.defined_only`` last and even on a skipped field, as protovalidate does."""
    name, path = field.name, (element(field),)
    required = rules.required
    ignore_empty = rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE or field.has_presence
    is_empty = _is_empty(field)
    defined = (
        frozenset(field.enum_type.values_by_number)
        if defined_only and field.enum_type is not None
        else None
    )

    def check(m: Any, found: Sink) -> None:
        if not (is_empty(m) and (required or ignore_empty)):
            _judge(getattr(m, name), path, standards, cels, found)
        elif required:
            found.append(_required(path))
        if defined is not None and getattr(m, name) not in defined:
            found.append(
                Found(
                    path,
                    _DEFINED_ONLY,
                    "enum.defined_only",
                    "value must be one of the defined enum values",
                    None,
                )
            )

    return check


def _repeated(field: FieldDescriptor, rules: validate_pb2.FieldRules) -> Check:
    """``RepeatedRules.validate``: the list's own rules (standard, then ``cel``), then each
    item's."""
    if field.message_type is not None and rules.repeated.unique:
        raise Unsupported("repeated.unique on messages")
    name, base = field.name, element(field)
    path = (base,)
    whole = standard_rules(field, "repeated", rules.repeated) if rules.HasField("repeated") else []
    cels = _cels(rules, None, field)
    items = (
        _Values(field, rules.repeated.items, _ITEMS) if rules.repeated.HasField("items") else None
    )
    if items is not None and items and field.message_type is not None:
        raise Unsupported(f"items rules on repeated messages {field.full_name}")
    required, ignore_zero = rules.required, rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE

    def check(m: Any, found: Sink) -> None:
        values = getattr(m, name)
        if not values and (required or ignore_zero):
            if required:
                found.append(_required(path))
            return
        _judge(values, path, whole, cels, found)
        if not items:
            return
        for index, value in enumerate(values):
            if items.skip_zero and not value:
                continue
            start = len(found)
            _judge(value, (), items.standards, items.cels, found)
            if len(found) > start:
                _under(found, start, _indexed(base, index))
                if len(found) >= found.limit:
                    return

    return check


def _map(field: FieldDescriptor, rules: validate_pb2.FieldRules, kind: str | None) -> Check:
    """``MapRules.validate``: the map's own rules, then per entry the value's violations
    followed by the key's (``for_key``), under ``field[key]``."""
    if kind not in (None, "map") or len(rules.cel) or len(rules.cel_expression):
        raise Unsupported(f"{kind or 'cel'} rules on map {field.full_name}")
    name, base = field.name, element(field)
    path = (base,)
    whole = standard_rules(field, "map", rules.map) if kind == "map" else []
    entry: Any = field.message_type
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    keys = _Values(key_field, rules.map.keys, _KEYS) if rules.map.HasField("keys") else None
    values = (
        _Values(value_field, rules.map.values, _VALUES) if rules.map.HasField("values") else None
    )
    required, ignore_zero = rules.required, rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE

    def check(m: Any, found: Sink) -> None:
        entries = getattr(m, name)
        if not entries and (required or ignore_zero):
            if required:
                found.append(_required(path))
            return
        _judge(entries, path, whole, [], found)
        if not (keys or values):
            return
        for key, value in entries.items():
            start = len(found)
            if values and not (values.skip_zero and not value):
                _judge(value, (), values.standards, values.cels, found)
            if keys and not (keys.skip_zero and not key):
                _judge(key, (), keys.standards, keys.cels, found, for_key=True)
            if len(found) > start:
                _under(found, start, _keyed(base, field, key))
                if len(found) >= found.limit:
                    return

    return check


def _oneof(oneof: OneofDescriptor, rules: validate_pb2.OneofRules) -> Iterable[Check]:
    """``OneofRules``: ``required`` refuses a oneof with no member set."""
    if not rules.required:
        return []
    name = oneof.name
    path = (validate_pb2.FieldPathElement(field_name=name),)

    def check(m: Any, found: Sink) -> None:
        if not m.WhichOneof(name):
            found.append(
                Found(path, None, "required", "exactly one field is required in oneof", None)
            )

    return [check]


def _message_oneof(descriptor: Descriptor, rule: validate_pb2.MessageOneofRule) -> Check:
    """``MessageOneofRule``: at most one of the fields set (not holding its zero value),
    and with ``required`` at least one."""
    names = list(rule.fields)
    if (
        not names
        or len(set(names)) != len(names)
        or any(n not in descriptor.fields_by_name for n in names)
    ):
        raise Unsupported(f"message oneof {names} of {descriptor.full_name}")
    empties = [_is_empty(descriptor.fields_by_name[n]) for n in names]
    listed, required = ", ".join(names), rule.required

    def check(m: Any, found: Sink) -> None:
        count = sum(1 for is_empty in empties if not is_empty(m))
        if count > 1:
            found.append(Found((), None, "message.oneof", f"only one of {listed} can be set", None))
        if required and count == 0:
            found.append(Found((), None, "message.oneof", f"one of {listed} must be set", None))

    return check
