"""Every rule the fast path translates, one field at a time, against protovalidate: the
verdict and the violations (ids, messages, field and rule paths, for_key, order).

The contracts use only some of these rules today; these tests keep the others exact for the
day a contract uses them.  Each case is a message type with one ruled field, built at test
time, and a pool of boundary values.
"""

from __future__ import annotations

from typing import Any

import protovalidate
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.descriptor_pb2 import FieldDescriptorProto as F

from buf.validate import validate_pb2
from pkg.server._requests import nul_violations
from pkg.validation import FastPath

_STRINGS = [
    "",
    "a",
    "ab",
    "abc",
    "abcd",
    "abcde",
    "é",
    "éé",
    "ééé",
    "名前",
    "😀😀",
    "abc\n",
    "xabc",
    "abcx",
    "123",
    "١٢٣",
    "12a",
    "a\x00c",
    "ann@example.com",
    "a@b",
    "a@b.co\n",
    "0b7c6f1e-5d0a-4c4e-9f7e-2a8b3c4d5e6f",
    "0B7C6F1E-5D0A-4C4E-9F7E-2A8B3C4D5E6F",
    "0b7c6f1e5d0a4c4e9f7e2a8b3c4d5e6f",
    "users/me",
    " users/me",
    "users/me\n",
]
_INTS = [-(2**31), -6, -5, -4, -1, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 2**31 - 1]
_ENUM_VALUES = [0, 1, 2, 3, -1, 99]
_LISTS: list[list[str]] = [
    [],
    [""],
    ["a"],
    ["a", "b"],
    ["a", "a"],
    ["a", ""],
    ["a", "b", "c"],
    ["a", "b", "c", "d"],
    ["é", "é"],
    ["a\x00"],
]
_MASKS = [[], ["a"], ["a.b"], ["ab"], ["b"], ["a", "b"], ["b", "a"], ["c.d"]]
_STRING_MAPS: list[dict[str, str]] = [
    {},
    {"a": ""},
    {"": "a"},
    {"ab": "abcd", "x": "é"},
    {"abc": "a", "b": "bb", "c": ""},
    {"a\x00": "b"},
]
_INT_MAPS: list[dict[int, int]] = [{}, {0: 0}, {1: -1, -2: 5}, {7: 7, 3: 11, 0: 1}]


def _build(
    name: str, field: F, rules: validate_pb2.FieldRules, map_types: tuple[int, int] | None = None
) -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name=f"perfval_rules/{name}.proto",
        package="perfval.rules",
        syntax="proto3",
        dependency=["google/protobuf/field_mask.proto"],
    )
    file.enum_type.add(name=f"{name}Color").value.extend(
        [
            descriptor_pb2.EnumValueDescriptorProto(name=f"{name.upper()}_C{i}", number=i)
            for i in range(3)
        ]
    )
    message = file.message_type.add(name=name)
    added = message.field.add()
    added.CopyFrom(field)
    added.name, added.number = "v", 1
    if map_types is not None:
        entry = message.nested_type.add(name="VEntry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=map_types[0], label=F.LABEL_OPTIONAL)  # type: ignore[arg-type]
        entry.field.add(name="value", number=2, type=map_types[1], label=F.LABEL_OPTIONAL)  # type: ignore[arg-type]
        added.type, added.label = F.TYPE_MESSAGE, F.LABEL_REPEATED
        added.type_name = f".perfval.rules.{name}.VEntry"
    if added.type == F.TYPE_ENUM:
        added.type_name = f".perfval.rules.{name}Color"
    if added.proto3_optional:
        message.oneof_decl.add(name="_v")
        added.oneof_index = 0
    added.options.Extensions[validate_pb2.field].CopyFrom(rules)
    pool = descriptor_pool.Default()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"perfval.rules.{name}"))


def _rules(text: str) -> validate_pb2.FieldRules:
    return text_format.Parse(text, validate_pb2.FieldRules())


_STRING = F(type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
_OPTIONAL_STRING = F(type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, proto3_optional=True)
_REPEATED_STRING = F(type=F.TYPE_STRING, label=F.LABEL_REPEATED)
_MASK = F(type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL, type_name=".google.protobuf.FieldMask")
_ENUM = F(type=F.TYPE_ENUM, label=F.LABEL_OPTIONAL)
_REPEATED_ENUM = F(type=F.TYPE_ENUM, label=F.LABEL_REPEATED)

CASES: list[tuple[str, F, str, list[Any]]] = [
    ("StrConst", _STRING, 'string { const: "abc" }', _STRINGS),
    ("StrLen", _STRING, "string { len: 3 }", _STRINGS),
    ("StrMinMax", _STRING, "string { min_len: 2 max_len: 3 }", _STRINGS),
    ("StrBytes", _STRING, "string { min_bytes: 2 max_bytes: 4 }", _STRINGS),
    ("StrLenBytes", _STRING, "string { len_bytes: 3 }", _STRINGS),
    ("StrPrefixSuffix", _STRING, 'string { prefix: "ab" suffix: "c" }', _STRINGS),
    ("StrContains", _STRING, 'string { contains: "bc" not_contains: "x" }', _STRINGS),
    ("StrIn", _STRING, 'string { in: ["a", "abc"] }', _STRINGS),
    ("StrNotIn", _STRING, 'string { not_in: ["a", ""] }', _STRINGS),
    ("StrPatternDigits", _STRING, r'string { pattern: "^\\d+$" }', _STRINGS),
    ("StrPatternAscii", _STRING, 'string { pattern: "^[a-c]{2,3}$" }', _STRINGS),
    ("StrPatternUnanchored", _STRING, 'string { pattern: "b|users" }', _STRINGS),
    ("StrEmail", _STRING, "string { email: true }", _STRINGS),
    ("StrUuid", _STRING, "string { uuid: true }", _STRINGS),
    ("StrUuidIgnoreZero", _STRING, "string { uuid: true } ignore: IGNORE_IF_ZERO_VALUE", _STRINGS),
    ("StrRequired", _STRING, "required: true string { max_len: 3 }", _STRINGS),
    ("StrOptional", _OPTIONAL_STRING, "string { min_len: 2 }", [None, *_STRINGS]),
    (
        "StrCel",
        _STRING,
        'cel { id: "x" message: "m" expression: "this.matches(\'^ab\')" }',
        _STRINGS,
    ),
    ("Int32Range", F(type=F.TYPE_INT32), "int32 { gt: 0 lt: 10 }", _INTS),
    ("Int64Range", F(type=F.TYPE_INT64), "int64 { gte: -5 lte: 5 }", _INTS),
    ("SInt32Lower", F(type=F.TYPE_SINT32), "sint32 { gte: 4 }", _INTS),
    ("UInt32In", F(type=F.TYPE_UINT32), "uint32 { in: [1, 2] }", [i for i in _INTS if i >= 0]),
    ("Int32NotInConst", F(type=F.TYPE_INT32), "int32 { not_in: [3] }", _INTS),
    ("Int32Const", F(type=F.TYPE_INT32), "int32 { const: 7 }", _INTS),
    (
        "Int32IgnoreZero",
        F(type=F.TYPE_INT32),
        "int32 { gte: 5 } ignore: IGNORE_IF_ZERO_VALUE",
        _INTS,
    ),
    ("Int32GtLte", F(type=F.TYPE_INT32), "int32 { gt: -5 lte: 5 }", _INTS),
    ("Int32Lt", F(type=F.TYPE_INT32), "int32 { lt: 3 }", _INTS),
    ("Int32Lte", F(type=F.TYPE_INT32), "int32 { lte: 3 }", _INTS),
    ("Int32Gt", F(type=F.TYPE_INT32), "int32 { gt: 3 }", _INTS),
    ("Int32GtLtExclusive", F(type=F.TYPE_INT32), "int32 { gt: 10 lt: 5 }", _INTS),
    ("Int32GteLteExclusive", F(type=F.TYPE_INT32), "int32 { gte: 10 lte: 5 }", _INTS),
    ("Int32GtLteExclusive", F(type=F.TYPE_INT32), "int32 { gt: 10 lte: 5 }", _INTS),
    ("Int32GteLtExclusive", F(type=F.TYPE_INT32), "int32 { gte: 10 lt: 5 }", _INTS),
    ("UInt64GteLt", F(type=F.TYPE_UINT64), "uint64 { gte: 2 lt: 7 }", [i for i in _INTS if i >= 0]),
    (
        "Fixed32In",
        F(type=F.TYPE_FIXED32),
        "fixed32 { in: [1, 9] not_in: [2] }",
        [i for i in _INTS if i >= 0],
    ),
    ("SFixed64Const", F(type=F.TYPE_SFIXED64), "sfixed64 { const: -5 }", _INTS),
    ("Int32Required", F(type=F.TYPE_INT32), "required: true int32 { lt: 5 }", _INTS),
    ("StrEmailMaxLen", _STRING, "string { email: true max_len: 5 }", _STRINGS),
    (
        "StrManyRules",
        _STRING,
        'string { min_len: 4 max_bytes: 4 pattern: "^a" not_contains: "c" suffix: "d" }',
        [*_STRINGS, "abbd"],
    ),
    ("StrCelExpression", _STRING, "cel_expression: \"this.matches('b')\"", _STRINGS),
    (
        "StrTwoCels",
        _STRING,
        'cel { id: "x" expression: "this.matches(\'^a\')" } '
        'cel { id: "y" message: "no c" expression: "this.matches(\'^[^c]*$\')" }',
        _STRINGS,
    ),
    ("StrIgnoreAlways", _STRING, "string { min_len: 9 } ignore: IGNORE_ALWAYS", _STRINGS),
    ("EnumDefinedIn", _ENUM, "enum { defined_only: true in: [1, 99] }", _ENUM_VALUES),
    ("EnumRequiredDefined", _ENUM, "required: true enum { defined_only: true }", _ENUM_VALUES),
    ("EnumDefined", _ENUM, "enum { defined_only: true }", _ENUM_VALUES),
    ("EnumIn", _ENUM, "enum { in: [1, 2] }", _ENUM_VALUES),
    ("EnumNotInConst", _ENUM, "enum { not_in: [2] }", _ENUM_VALUES),
    (
        "RepeatedItems",
        _REPEATED_STRING,
        "repeated { min_items: 1 max_items: 3 unique: true items { string { min_len: 1 } } }",
        _LISTS,
    ),
    (
        "RepeatedItemsIgnoreZero",
        _REPEATED_STRING,
        "repeated { items { string { max_len: 0 } ignore: IGNORE_IF_ZERO_VALUE } }",
        _LISTS,
    ),
    (
        "RepeatedEnum",
        _REPEATED_ENUM,
        "repeated { unique: true items { enum { in: [1, 2] } } }",
        [[], [0], [1, 2], [1, 1], [3], [1, 99]],
    ),
    ("RepeatedRequired", _REPEATED_STRING, "required: true", _LISTS),
    (
        "RepeatedMinItemsIgnoreZero",
        _REPEATED_STRING,
        'repeated { min_items: 2 items { string { in: ["a"] } } } ignore: IGNORE_IF_ZERO_VALUE',
        _LISTS,
    ),
    (
        "RepeatedItemsCel",
        _REPEATED_STRING,
        'repeated { items { cel { id: "i" expression: "this.matches(\'^[ab]$\')" } '
        "string { max_len: 1 } } }",
        _LISTS,
    ),
    ("MaskIn", _MASK, 'field_mask { in: ["a"] }', [None, *_MASKS]),
    ("MaskNotIn", _MASK, 'field_mask { not_in: ["a"] }', [None, *_MASKS]),
    ("MaskConst", _MASK, 'field_mask { const { paths: ["a", "b"] } }', [None, *_MASKS]),
    ("MaskRequired", _MASK, "required: true", [None, *_MASKS]),
    ("MaskInNotIn", _MASK, 'field_mask { in: ["a", "b"] not_in: ["a.b"] }', [None, *_MASKS]),
]

_MAP = F(label=F.LABEL_REPEATED)
MAP_CASES: list[tuple[str, tuple[int, int], str, list[Any]]] = [
    ("MapPairs", (F.TYPE_STRING, F.TYPE_STRING), "map { min_pairs: 1 max_pairs: 2 }", _STRING_MAPS),
    (
        "MapKeysValues",
        (F.TYPE_STRING, F.TYPE_STRING),
        'map { keys { string { max_len: 2 } } values { string { min_len: 1 prefix: "a" } } }',
        _STRING_MAPS,
    ),
    (
        "MapValuesIgnoreZero",
        (F.TYPE_STRING, F.TYPE_STRING),
        "map { values { string { min_len: 2 } ignore: IGNORE_IF_ZERO_VALUE } }",
        _STRING_MAPS,
    ),
    (
        "MapIntKeys",
        (F.TYPE_INT32, F.TYPE_INT64),
        "map { keys { int32 { gte: 0 } } values { int64 { lt: 6 not_in: [1] } } }",
        _INT_MAPS,
    ),
    ("MapRequired", (F.TYPE_STRING, F.TYPE_STRING), "required: true", _STRING_MAPS),
]


def _message(cls: Any, value: Any) -> Any:
    message = cls()
    field = cls.DESCRIPTOR.fields_by_name["v"]
    if value is None:
        return message
    if isinstance(value, dict):
        message.v.update(value)
    elif field.message_type is not None:
        message.v.paths.extend(value)
    elif field.is_repeated:
        message.v.extend(value)
    else:
        message.v = value
    return message


def _agree(cls: Any, values: list[Any], name: str) -> None:
    """The fast path (with no protovalidate fallback) gives protovalidate's verdict and
    violations for every value of ``v``; both verdicts occur."""
    fast, validator = FastPath(), protovalidate.Validator()
    assert fast.fallback_reason(cls.DESCRIPTOR) is None
    verdicts = []
    for value in values:
        message = _message(cls, value)
        violations = [v.proto for v in validator.collect_violations(message)]
        assert fast.violations(message) == violations, (name, value)
        expected = not nul_violations(message) and not violations
        assert fast.is_valid(message) == expected, (name, value)
        verdicts.append(expected)
    assert True in verdicts and False in verdicts


@pytest.mark.parametrize(("name", "field", "rules", "values"), CASES, ids=[c[0] for c in CASES])
def test_rule_verdict_and_violations_are_protovalidates(
    name: str, field: F, rules: str, values: list[Any]
) -> None:
    _agree(_build(name, field, _rules(rules)), values, name)


@pytest.mark.parametrize(
    ("name", "types", "rules", "values"), MAP_CASES, ids=[c[0] for c in MAP_CASES]
)
def test_map_rules_are_protovalidates(
    name: str, types: tuple[int, int], rules: str, values: list[Any]
) -> None:
    _agree(_build(name, _MAP, _rules(rules), types), values, name)


UNTRANSLATED: list[tuple[str, F, str]] = [
    (
        "StringOnMask",
        F(type=F.TYPE_MESSAGE, type_name=".google.protobuf.FieldMask"),
        "string { min_len: 1 }",
    ),
    ("Hostname", _STRING, "string { hostname: true }"),
    ("OtherCel", _STRING, 'cel { id: "x" message: "m" expression: "this.size() > 1" }'),
    ("Float", F(type=F.TYPE_FLOAT), "float { gt: 0 }"),
    ("ItemsDefinedOnly", _REPEATED_ENUM, "repeated { items { enum { defined_only: true } } }"),
]


@pytest.mark.parametrize(("name", "field", "rules"), UNTRANSLATED, ids=[c[0] for c in UNTRANSLATED])
def test_untranslated_rules_always_go_to_protovalidate(name: str, field: F, rules: str) -> None:
    cls = _build(name, field, _rules(rules))
    fast, validator = FastPath(), protovalidate.Validator()
    assert fast.fallback_reason(cls.DESCRIPTOR) is not None
    message = cls()
    try:
        expected = [v.proto for v in validator.collect_violations(message)]
    except protovalidate.CompilationError:
        assert not fast.is_valid(message)
        return
    assert fast.violations(message) == expected
    assert fast.is_valid(message) == (not expected)
