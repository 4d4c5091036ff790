"""Differential tests: the fast path agrees with protovalidate on every request type, in
verdict and in violations (field path, rule path, rule id, message, for_key, order)."""

from __future__ import annotations

import random
import re
import re._parser as sre
import uuid
from typing import Any

import protovalidate
import pytest
from google.api import resource_pb2
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


def _string_rules(field: FieldDescriptor) -> validate_pb2.StringRules | None:
    """The string rules of ``field``'s values (its items' for a repeated field)."""
    options = field.GetOptions()
    if not options.HasExtension(validate_pb2.field):
        return None
    rules = options.Extensions[validate_pb2.field]
    return rules.repeated.items.string if field.is_repeated else rules.string


def _lengths(field: FieldDescriptor) -> list[int]:
    rules = _string_rules(field)
    if rules is None:
        return [0, 1, 30]
    bounds = [v for f, v in rules.ListFields() if f.name in ("min_len", "max_len", "len")]
    return sorted({max(0, b + d) for b in bounds for d in (-1, 0, 1)} | {0, 1})


def _contract_messages() -> list[Descriptor]:
    """Every message (nested ones too) of the contracts' files and the ``agora`` files
    they import."""
    pool = descriptor_pool.Default()
    files = {pool.FindServiceByName(name).file for name in import_contracts()}
    files |= {d for f in files for d in f.dependencies if d.package.startswith("agora.")}
    found: list[Descriptor] = []
    pending = [
        m for f in sorted(files, key=lambda f: f.name) for m in f.message_types_by_name.values()
    ]
    while pending:
        message = pending.pop(0)
        found.append(message)
        pending.extend(message.nested_types)
    return found


def _resources() -> dict[str, list[str]]:
    """``google.api.resource`` type → its patterns, over the contracts' messages."""
    found: dict[str, list[str]] = {}
    for message in _contract_messages():
        options = message.GetOptions()
        if options.HasExtension(resource_pb2.resource):
            resource = options.Extensions[resource_pb2.resource]
            found[resource.type] = list(resource.pattern)
    return found


_VARIABLE = re.compile(r"\{[^}]*\}")


def _names(pattern: str) -> list[str]:
    """Names of a resource ``pattern`` (``users/{user}``): its variables replaced by a
    UUID, ``me`` and wrong values (upper case, short, empty, a word), all alike and only
    the first (the others a UUID), and the all-UUID name with a final newline."""
    variants = [_UUID, "me", _UUID.upper(), _UUID[:-1], "", "nobody", "ME"]
    names = [_VARIABLE.sub(v, pattern) for v in variants]
    names += [_VARIABLE.sub(_UUID, _VARIABLE.sub(v, pattern, count=1)) for v in variants]
    return [*dict.fromkeys([*names, _VARIABLE.sub(_UUID, pattern) + "\n"])]


RESOURCES = _resources()
_RESOURCE_NAMES = [n for patterns in RESOURCES.values() for p in patterns for n in _names(p)]
_UUID_NAMES = [_VARIABLE.sub(_UUID, p) for patterns in RESOURCES.values() for p in patterns]
_SAMPLES = [*dict.fromkeys(_RESOURCE_NAMES + _WORDS)]


def _class_char(items: list[Any], rng: random.Random) -> str:
    """A character of a regex character class (``re._parser`` items)."""
    if items and items[0][0] is sre.NEGATE:
        taken = {chr(a) for op, a in items if op is sre.LITERAL}
        return next(c for c in "azAZ09_-." if c not in taken)
    choices: list[str] = []
    for op, arg in items:
        if op is sre.LITERAL:
            choices.append(chr(arg))
        elif op is sre.RANGE:
            choices.append(chr(rng.randint(*arg)))
        elif op is sre.CATEGORY:
            choices.append({sre.CATEGORY_DIGIT: "7", sre.CATEGORY_SPACE: " "}.get(arg, "a"))
    return rng.choice(choices)


def _regex_sample(pattern: str, rng: random.Random) -> str:
    """A string that ``pattern`` matches, built from its parse tree (branches and
    repeat counts chosen by ``rng``)."""

    def walk(items: Any) -> str:
        out = []
        for op, arg in items:
            if op is sre.LITERAL:
                out.append(chr(arg))
            elif op is sre.ANY:
                out.append("a")
            elif op is sre.IN:
                out.append(_class_char(arg, rng))
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
                low, high, sub = arg
                out.extend(walk(sub) for _ in range(rng.randint(low, min(high, low + 3))))
            elif op is sre.SUBPATTERN:
                out.append(walk(arg[-1]))
            elif op is sre.BRANCH:
                out.append(walk(rng.choice(arg[1])))
            elif op is not sre.AT:
                raise AssertionError(f"no sample for {op} in {pattern!r}: teach _regex_sample")
        return "".join(out)

    sample = walk(sre.parse(pattern))
    assert re.search(pattern, sample), (pattern, sample)
    return sample


def _resource_name(field: FieldDescriptor, rng: random.Random) -> str | None:
    """For a field naming a resource (a resource message's ``name``, or a
    ``resource_reference``): a name of one of its patterns, with a UUID or ``me``."""
    options = field.GetOptions()
    patterns: list[str] = []
    if options.HasExtension(resource_pb2.resource_reference):
        patterns = RESOURCES.get(options.Extensions[resource_pb2.resource_reference].type, [])
    owner = field.containing_type.GetOptions() if field.containing_type else None
    if not patterns and owner is not None and owner.HasExtension(resource_pb2.resource):
        resource = owner.Extensions[resource_pb2.resource]
        if field.name == (resource.name_field or "name"):
            patterns = list(resource.pattern)
    if not patterns:
        return None
    return _VARIABLE.sub(lambda _: rng.choice([_UUID, "me"]), rng.choice(patterns))


def _likely_valid(field: FieldDescriptor, rng: random.Random) -> str:
    rules = _string_rules(field)
    if rules is None or not rules.ListFields():
        return _resource_name(field, rng) or rng.choice(_UUID_NAMES)
    if rules.email:
        return "ann@example.com"
    if rules.uuid:
        return _UUID
    if rules.pattern:  # a sample word the pattern takes, or a string built from it
        taken = [w for w in _SAMPLES if re.search(rules.pattern, w)]
        return rng.choice([*taken, _regex_sample(rules.pattern, rng)])
    return "x" * max(rules.min_len, 1)


def _string(rng: random.Random, field: Any) -> str:
    if rng.random() < 0.5:
        return _likely_valid(field, rng)
    if rng.random() < 0.5:
        return rng.choice(_SAMPLES)
    text = rng.choice("xé名😀") * rng.choice(_lengths(field))
    return text if rng.random() < 0.9 or not text else text[:-1] + "\x00"


def _integer(rng: random.Random, field: FieldDescriptor) -> int:
    """Half the time a value the field's integer rules take, else a boundary-ish one."""
    options = field.GetOptions()
    kind = options.Extensions[validate_pb2.field].WhichOneof("type")
    if rng.random() < 0.5 and kind is not None and kind.endswith(("int32", "int64")):
        rules = getattr(options.Extensions[validate_pb2.field], kind)
        if list(getattr(rules, "in")):
            return rng.choice(list(getattr(rules, "in")))
        low = rules.gte if rules.HasField("gte") else rules.gt + 1 if rules.HasField("gt") else 0
        high = rules.lte if rules.HasField("lte") else rules.lt - 1 if rules.HasField("lt") else 0
        return rng.randint(low, max(low, high))
    return rng.choice([-1, 0, 1, 20, 99, 100, 101, -(2**31)])


def _mask(rng: random.Random, field: FieldDescriptor) -> list[str]:
    """Paths for a FieldMask: half the time allowed ones (its ``field_mask.in``), else
    a sample or an allowed path garbled."""
    allowed = list(getattr(field.GetOptions().Extensions[validate_pb2.field].field_mask, "in"))
    if allowed and rng.random() < 0.5:
        return rng.sample(allowed, rng.randint(1, len(allowed)))
    if allowed and rng.random() < 0.5:
        return [rng.choice(allowed) + rng.choice(["x", ".first", "\x00"])]
    return rng.choice(_MASKS)


def _fill(rng: random.Random, message: Message, depth: int = 0) -> Message:
    fields: list[FieldDescriptor] = list(message.DESCRIPTOR.fields)  # type: ignore[arg-type]
    for field in fields:
        if rng.random() < 0.2:
            continue
        if field.message_type is not None:
            if field.message_type.full_name == "google.protobuf.FieldMask":
                getattr(message, field.name).paths.extend(_mask(rng, field))
            elif field.message_type.full_name == "google.protobuf.Timestamp":
                getattr(message, field.name).seconds = rng.randint(0, 2**31)
            elif depth < 2 and field.is_repeated and not field.message_type.GetOptions().map_entry:
                for _ in range(rng.randint(0, 3)):
                    _fill(rng, getattr(message, field.name).add(), depth + 1)
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
            setattr(message, field.name, _integer(rng, field))
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
# Request types the fast path leaves to protovalidate (so their invalid requests cost
# protovalidate's CPU, ADR 0024), with the rule it does not translate. Translate the rule
# in pkg.validation and the entry goes.
LEFT_TO_PROTOVALIDATE: dict[str, str] = {}


def test_contracts_have_request_types() -> None:
    assert {
        "agora.user.v1.CreateUserRequest",
        "agora.user.v1.UpdateUserRequest",
        "agora.auth.v1.RegisterRequest",
    } <= {t.full_name for t in TYPES}


@pytest.mark.parametrize("descriptor", TYPES, ids=lambda d: d.full_name)
def test_fast_path_covers_every_rule_of_every_request_type(descriptor: Descriptor) -> None:
    """Fails when the contracts gain a rule the fast path does not translate: translate it
    (or accept that the type always goes to protovalidate and say so in
    ``LEFT_TO_PROTOVALIDATE``)."""
    expected = LEFT_TO_PROTOVALIDATE.get(descriptor.full_name)
    assert FastPath().fallback_reason(descriptor) == expected


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
    ones too: NUL is the interceptor's own check, not a protovalidate violation). A type
    of ``LEFT_TO_PROTOVALIDATE`` is protovalidate's answer through ``FastPath``."""
    fast, validator = FastPath(), protovalidate.Validator()
    if descriptor.full_name not in LEFT_TO_PROTOVALIDATE:
        fast = _no_fallback(fast)
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
