"""Differential tests: the fast path agrees with protovalidate on every request type, in
verdict and in violations (field path, rule path, rule id, message, for_key, order)."""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import protovalidate
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from buf.validate import validate_pb2
from pkg import errors
from pkg.contracts import import_contracts
from pkg.server._interceptors import ValidationInterceptor, _field_path
from pkg.server._requests import nul_violations
from pkg.validation import FastPath

_UUID = str(uuid.UUID(int=0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0))
_WORDS = [
    "",
    "a",
    "users/me",
    "users/me\n",
    f"users/{_UUID}",
    f"users/{_UUID.upper()}",
    "users/",
    _UUID,
    _UUID.upper(),
    _UUID + "\n",
    _UUID[:-1],
    "not-a-uuid",
    "a@b.co",
    "ann@example.com",
    "a@b",
    "@b.co",
    "a b@c.d",
    "ü@b.co",
    "a@-b.co",
    "a@b.co\n",
    "a\x00b",
    "\x00",
    "é",
    "名前",
    "display_name",
    "😀",
]
_MASKS = [
    [],
    ["display_name"],
    ["email"],
    ["display_name.first"],
    ["display_name", "email"],
    ["display_namex"],
    ["a\x00"],
]
_ENUMS = [0, 1, 2, 3, 99, -1]


def request_types() -> list[Descriptor]:
    """Every RPC input type of the contracts, sorted by full name."""
    pool = descriptor_pool.Default()
    found: dict[str, Descriptor] = {}
    for name in import_contracts():
        for method in pool.FindServiceByName(name).methods:
            found[method.input_type.full_name] = method.input_type
    return [found[k] for k in sorted(found)]


def _lengths(field: FieldDescriptor) -> list[int]:
    options = field.GetOptions()
    if not options.HasExtension(validate_pb2.field):
        return [0, 1, 30]
    rules = options.Extensions[validate_pb2.field]
    bounds = [v for f, v in rules.string.ListFields() if f.name in ("min_len", "max_len", "len")]
    return sorted({max(0, b + d) for b in bounds for d in (-1, 0, 1)} | {0, 1})


def _likely_valid(field: FieldDescriptor) -> str:
    options = field.GetOptions()
    if not options.HasExtension(validate_pb2.field):
        return "users/me"
    rules = options.Extensions[validate_pb2.field].string
    if rules.email:
        return "ann@example.com"
    if rules.uuid:
        return _UUID
    if rules.pattern:  # the first sample word the pattern takes
        return next((w for w in _WORDS if re.search(rules.pattern, w)), "users/me")
    return "x" * max(rules.min_len, 1)


def _string(rng: random.Random, field: Any) -> str:
    if rng.random() < 0.5:
        return _likely_valid(field)
    if rng.random() < 0.5:
        return rng.choice(_WORDS)
    text = rng.choice("xé名😀") * rng.choice(_lengths(field))
    return text if rng.random() < 0.9 or not text else text[:-1] + "\x00"


def _fill(rng: random.Random, message: Message, depth: int = 0) -> Message:
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.2:
            continue
        if field.message_type is not None:
            if field.message_type.full_name == "google.protobuf.FieldMask":
                getattr(message, field.name).paths.extend(rng.choice(_MASKS))
            elif field.message_type.full_name == "google.protobuf.Timestamp":
                getattr(message, field.name).seconds = rng.randint(0, 2**31)
            elif depth < 2 and not field.is_repeated:
                _fill(rng, getattr(message, field.name), depth + 1)
        elif field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                getattr(message, field.name).extend(
                    _string(rng, field) for _ in range(rng.randint(0, 3))
                )
            else:
                setattr(message, field.name, _string(rng, field))
        elif field.type == FieldDescriptor.TYPE_ENUM:
            values = [rng.choice(_ENUMS) for _ in range(rng.randint(0, 3))]
            if rng.random() < 0.5:
                values = rng.choice([[], [1], [2], [1, 2], [2, 1]])
            if field.is_repeated:
                getattr(message, field.name).extend(values)
            elif values:
                setattr(message, field.name, values[0])
        elif field.cpp_type in (FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_INT64):
            setattr(message, field.name, rng.choice([-1, 0, 1, 20, 99, 100, 101, -(2**31)]))
    return message


def _messages(descriptor: Descriptor, count: int) -> list[Message]:
    cls = message_factory.GetMessageClass(descriptor)
    rng = random.Random(descriptor.full_name)
    return [cls()] + [_fill(rng, cls()) for _ in range(count)]


def _no_fallback(fast: FastPath) -> FastPath:
    """``fast`` with its protovalidate fallback turned into a test failure."""

    def refuse(message: Message, limit: int) -> list[validate_pb2.Violation]:
        raise AssertionError(f"{message.DESCRIPTOR.full_name} went to protovalidate")

    fast._protovalidate = refuse  # type: ignore[method-assign]
    return fast


def _protovalidate_says_valid(validator: protovalidate.Validator, message: Message) -> bool:
    return not nul_violations(message) and not validator.collect_violations(message)


TYPES = request_types()


def test_contracts_have_request_types() -> None:
    assert {
        "agora.user.v1.CreateUserRequest",
        "agora.user.v1.UpdateUserRequest",
        "agora.auth.v1.RegisterRequest",
    } <= {t.full_name for t in TYPES}


@pytest.mark.parametrize("descriptor", TYPES, ids=lambda d: d.full_name)
def test_fast_path_covers_every_rule_of_every_request_type(descriptor: Descriptor) -> None:
    """Fails when the contracts gain a rule the fast path does not translate: translate it
    (or accept that the type always goes to protovalidate and say so here)."""
    assert FastPath().fallback_reason(descriptor) is None


@pytest.mark.parametrize("descriptor", TYPES, ids=lambda d: d.full_name)
def test_fast_path_verdict_is_protovalidates(descriptor: Descriptor) -> None:
    fast, validator = FastPath(), protovalidate.Validator()
    verdicts = []
    for message in _messages(descriptor, 400):
        expected = _protovalidate_says_valid(validator, message)
        assert fast.is_valid(message) == expected, message
        verdicts.append(expected)
    if descriptor.fields:
        assert True in verdicts and False in verdicts


@pytest.mark.parametrize("descriptor", TYPES, ids=lambda d: d.full_name)
def test_compiled_violations_are_protovalidates(descriptor: Descriptor) -> None:
    """Field by field: the compiled path's ``buf.validate.Violation``s equal
    protovalidate's, in order, for generated valid and invalid messages (NUL-in-string
    ones too: NUL is the interceptor's own check, not a protovalidate violation)."""
    fast, validator = _no_fallback(FastPath()), protovalidate.Validator()
    counts = []
    for message in _messages(descriptor, 400):
        expected = [v.proto for v in validator.collect_violations(message)]
        assert fast.violations(message) == expected, message
        counts.append(len(expected))
    if any(f.GetOptions().HasExtension(validate_pb2.field) for f in descriptor.fields):
        assert 0 in counts and max(counts) >= 1


@pytest.mark.parametrize("descriptor", TYPES, ids=lambda d: d.full_name)
def test_interceptor_violations_are_protovalidates(descriptor: Descriptor) -> None:
    interceptor, validator = ValidationInterceptor(), protovalidate.Validator()
    for message in _messages(descriptor, 150):
        nul = nul_violations(message)
        expected = [(v.field, v.reason) for v in nul] or [
            (_field_path(v.proto) or v.proto.rule_id, v.proto.rule_id)
            for v in validator.collect_violations(message)
        ]
        try:
            assert interceptor._check("/test/Method", message) is message
            got: list[tuple[str, str]] = []
        except errors.InvalidArgument as exc:
            got = [(v.field, v.reason) for v in exc.violations]
        assert got == expected, message


def _type_with_rule(name: str, rules: validate_pb2.FieldRules) -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name=f"perfval_test/{name}.proto", package="perfval.test", syntax="proto3"
    )
    message = file.message_type.add(name=name)
    field = message.field.add(
        name="host",
        number=1,
        type=FieldDescriptor.TYPE_STRING,
        label=FieldDescriptor.LABEL_OPTIONAL,
    )
    field.options.Extensions[validate_pb2.field].CopyFrom(rules)
    descriptor_pool.Default().Add(file)
    return message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(f"perfval.test.{name}")
    )


def test_a_rule_the_fast_path_does_not_know_goes_to_protovalidate() -> None:
    rules = validate_pb2.FieldRules()
    rules.string.hostname = True
    cls = _type_with_rule("WithHostname", rules)
    fast, interceptor = FastPath(), ValidationInterceptor()
    assert fast.fallback_reason(cls.DESCRIPTOR) == "string.hostname"
    valid, invalid = cls(host="example.com"), cls(host="not a host")
    assert fast.is_valid(valid) and not fast.is_valid(invalid)
    assert fast.violations(valid) == []
    assert fast.violations(invalid) == [
        v.proto for v in protovalidate.Validator().collect_violations(invalid)
    ]
    assert interceptor._check("/test/Method", valid) is valid
    with pytest.raises(errors.InvalidArgument) as caught:
        interceptor._check("/test/Method", invalid)
    assert [(v.field, v.reason) for v in caught.value.violations] == [("host", "string.hostname")]


def test_a_translated_rule_goes_fast_and_nul_still_refused() -> None:
    rules = validate_pb2.FieldRules()
    rules.string.max_len = 3
    cls = _type_with_rule("WithMaxLen", rules)
    fast = FastPath()
    assert fast.fallback_reason(cls.DESCRIPTOR) is None
    assert fast.is_valid(cls(host="abc"))
    assert not fast.is_valid(cls(host="abcd"))
    assert not fast.is_valid(cls(host="a\x00"))


def test_prepared_types_are_compiled_before_their_first_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agora.user.v1 import user_pb2
    from pkg.validation import FastPath

    fast = FastPath()
    fast.prepare([user_pb2.GetUserRequest])

    def no_compiling_now(descriptor: Any) -> Any:
        raise AssertionError(f"{descriptor.full_name} compiled on the request path")

    monkeypatch.setattr(fast._compiler, "compile", no_compiling_now)
    assert fast.is_valid(user_pb2.GetUserRequest(name="users/me"))
    assert not fast.is_valid(user_pb2.GetUserRequest(name="users/nobody"))
