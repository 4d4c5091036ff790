"""Violations through message structure, against protovalidate: nested, recursive,
repeated and map message values, ``oneof`` rules, message ``oneof`` and ``cel``; and the
limit that keeps a huge invalid request cheap to refuse."""

from __future__ import annotations

import random
from typing import Any

import protovalidate
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.descriptor_pb2 import FieldDescriptorProto as F

from agora.user.v1 import user_pb2
from buf.validate import validate_pb2
from pkg import errors
from pkg.server._interceptors import MAX_VIOLATIONS, ValidationInterceptor
from pkg.validation import FastPath

_PACKAGE = "perfval.structure"


def _field(
    message: Any,
    name: str,
    number: int,
    kind: int,
    rules: str = "",
    label: int = F.LABEL_OPTIONAL,
    type_name: str = "",
    oneof: int | None = None,
) -> None:
    added = message.field.add(name=name, number=number, type=kind, label=label)
    if type_name:
        added.type_name = f".{_PACKAGE}.{type_name}"
    if oneof is not None:
        added.oneof_index = oneof
    if rules:
        added.options.Extensions[validate_pb2.field].CopyFrom(
            text_format.Parse(rules, validate_pb2.FieldRules())
        )


def _types() -> tuple[Any, Any]:
    file = descriptor_pb2.FileDescriptorProto(
        name="perfval_structure/s.proto", package=_PACKAGE, syntax="proto3"
    )
    inner = file.message_type.add(name="Inner")
    _field(inner, "s", 1, F.TYPE_STRING, 'string { min_len: 2 pattern: "^[a-z]+$" }')
    _field(
        inner,
        "t",
        2,
        F.TYPE_STRING,
        "repeated { max_items: 2 items { string { max_len: 1 } } }",
        label=F.LABEL_REPEATED,
    )
    _field(inner, "child", 3, F.TYPE_MESSAGE, type_name="Inner")
    _field(inner, "n", 4, F.TYPE_INT32, "int32 { gte: 0 }")
    inner.options.Extensions[validate_pb2.message].cel.add(
        id="inner.s", message="s must not start with x", expression="this.s.matches('^[^x]')"
    )
    outer = file.message_type.add(name="Outer")
    entry = outer.nested_type.add(name="ByKeyEntry")
    entry.options.map_entry = True
    _field(entry, "key", 1, F.TYPE_STRING)
    _field(entry, "value", 2, F.TYPE_MESSAGE, type_name="Inner")
    outer.oneof_decl.add(name="choice").options.Extensions[validate_pb2.oneof].required = True
    _field(outer, "one", 1, F.TYPE_MESSAGE, "required: true", type_name="Inner")
    _field(
        outer,
        "many",
        2,
        F.TYPE_MESSAGE,
        "repeated { max_items: 3 }",
        label=F.LABEL_REPEATED,
        type_name="Inner",
    )
    _field(
        outer,
        "by_key",
        3,
        F.TYPE_MESSAGE,
        "map { max_pairs: 2 }",
        label=F.LABEL_REPEATED,
        type_name="Outer.ByKeyEntry",
    )
    _field(outer, "a", 4, F.TYPE_STRING, "string { min_len: 3 }", oneof=0)
    _field(outer, "b", 5, F.TYPE_INT32, "int32 { gt: 0 }", oneof=0)
    _field(outer, "c", 6, F.TYPE_STRING, "string { len: 2 }")
    _field(outer, "d", 7, F.TYPE_INT32)
    outer.options.Extensions[validate_pb2.message].oneof.add(fields=["c", "d"], required=True)
    outer.options.Extensions[validate_pb2.message].cel.add(
        id="outer.one", expression="this.one.child.s.matches('^$|^[a-z]')"
    )
    pool = descriptor_pool.Default()
    pool.Add(file)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Outer")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Inner")),
    )


OUTER, INNER = _types()
_TEXTS = ["", "a", "ab", "xab", "Ab", "abc", "abcd", "a\x00", "é", "ab\n"]


def _inner(rng: random.Random, depth: int = 0) -> Any:
    inner = INNER()
    if rng.random() < 0.8:
        inner.s = rng.choice(_TEXTS)
    inner.t.extend(rng.choice(_TEXTS) for _ in range(rng.randint(0, 4)))
    inner.n = rng.choice([-1, 0, 5])
    if depth < 2 and rng.random() < 0.4:
        inner.child.CopyFrom(_inner(rng, depth + 1))
    return inner


def _outer(rng: random.Random) -> Any:
    outer = OUTER()
    if rng.random() < 0.7:
        outer.one.CopyFrom(_inner(rng))
    outer.many.extend(_inner(rng) for _ in range(rng.randint(0, 4)))
    for _ in range(rng.randint(0, 3)):
        outer.by_key[rng.choice(_TEXTS)].CopyFrom(_inner(rng))
    choice = rng.random()
    if choice < 0.3:
        outer.a = rng.choice(_TEXTS)
    elif choice < 0.6:
        outer.b = rng.choice([-3, 0, 4])
    if rng.random() < 0.6:
        outer.c = rng.choice(_TEXTS)
    if rng.random() < 0.5:
        outer.d = rng.choice([0, 1])
    return outer


def test_structured_violations_are_protovalidates() -> None:
    fast, validator = FastPath(), protovalidate.Validator()
    assert fast.fallback_reason(OUTER.DESCRIPTOR) is None
    rng = random.Random(7)
    counts = []
    valid = OUTER(
        one=INNER(s="ab", child=INNER(s="cd")), many=[INNER(s="ef", t=["g"])], b=1, c="hi"
    )
    valid.by_key["k"].s = "ij"
    for message in [valid, *(_outer(rng) for _ in range(150))]:
        expected = [v.proto for v in validator.collect_violations(message)]
        assert fast.violations(message) == expected, message
        counts.append(len(expected))
    assert min(counts) == 0 and max(counts) >= 10


def test_a_limit_keeps_the_first_violations_in_protovalidates_order() -> None:
    fast, validator = FastPath(), protovalidate.Validator()
    message = OUTER(many=[INNER(s="A", t=["xx"] * 5) for _ in range(6)])
    expected = [v.proto for v in validator.collect_violations(message)]
    assert len(expected) > 30
    for limit in (1, 2, 7, 30, len(expected), len(expected) + 5):
        assert fast.violations(message, limit=limit) == expected[:limit]


@pytest.mark.parametrize("count", [10_000])
def test_a_huge_repeated_field_yields_only_the_first_violations(count: int) -> None:
    """An attacker's 10,000 invalid roles: the compiled path stops at the limit; those
    violations are protovalidate's first ones (checked against a 60-role prefix, which
    protovalidate can judge quickly)."""
    fast, validator = FastPath(), protovalidate.Validator()
    huge = user_pb2.CreateUserRequest(
        email="ann@example.com",
        password="p" * 12,
        display_name="Ann",
        roles=[user_pb2.ROLE_ADMIN] * count,
    )
    small = user_pb2.CreateUserRequest()
    small.CopyFrom(huge)
    del small.roles[60:]
    expected = [v.proto for v in validator.collect_violations(small)][:MAX_VIOLATIONS]
    assert len(expected) == MAX_VIOLATIONS
    assert fast.violations(huge, limit=MAX_VIOLATIONS) == expected
    with pytest.raises(errors.InvalidArgument) as caught:
        ValidationInterceptor()._check("/test/Method", huge)
    assert [(v.field, v.reason) for v in caught.value.violations] == [
        ("roles", "repeated.max_items"),
        ("roles", "repeated.unique"),
        *[(f"roles[{i}]", "enum.in") for i in range(MAX_VIOLATIONS - 2)],
    ]
