"""The CEL form ``this[.f...].map(v, v.g).unique()`` (no two items of a message list with
equal ``g``) against protovalidate: ReserveStockRequest's ``items.products_unique``, the
form on every scalar kind of ``g``, through a message rule and a nested message, beside
other rules; and the look-alikes the fast path leaves to protovalidate."""

from __future__ import annotations

import random
import uuid
from typing import Any

import protovalidate
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.descriptor_pb2 import FieldDescriptorProto as F

from agora.catalog.v1 import stock_pb2
from buf.validate import validate_pb2
from pkg import errors
from pkg.server._interceptors import ValidationInterceptor
from pkg.validation import FastPath

_PACKAGE = "perfval.unique"


def _protovalidates(message: Any) -> list[validate_pb2.Violation]:
    return [v.proto for v in protovalidate.Validator().collect_violations(message)]


def _reservation(products: list[str], quantity: int = 1) -> stock_pb2.ReserveStockRequest:
    return stock_pb2.ReserveStockRequest(
        order=f"orders/{uuid.UUID(int=1)}",
        items=[stock_pb2.ReservationItem(product=p, quantity=quantity) for p in products],
    )


def _products(count: int) -> list[str]:
    return [f"products/{uuid.UUID(int=i + 1)}" for i in range(count)]


def test_reserve_stock_request_is_compiled() -> None:
    assert FastPath().fallback_reason(stock_pb2.ReserveStockRequest.DESCRIPTOR) is None


def test_a_product_twice_is_protovalidates_violation() -> None:
    fast = FastPath()
    first, second = _products(2)
    message = _reservation([first, second, first])
    expected = _protovalidates(message)
    assert fast.violations(message) == expected
    assert not fast.is_valid(message)
    (violation,) = expected
    assert (violation.rule_id, violation.message) == (
        "items.products_unique",
        "each product must appear once",
    )
    assert [e.field_name for e in violation.field.elements] == ["items"]
    assert [(e.field_name, e.index) for e in violation.rule.elements] == [("cel", 0)]
    assert violation.HasField("for_key") and not violation.for_key
    with pytest.raises(errors.InvalidArgument) as caught:
        ValidationInterceptor()._check("/test/Method", message)
    assert [(v.field, v.reason) for v in caught.value.violations] == [
        ("items", "items.products_unique")
    ]


def test_distinct_products_have_no_violation() -> None:
    fast = FastPath()
    message = _reservation(_products(3))
    assert _protovalidates(message) == []
    assert fast.violations(message) == []
    assert fast.is_valid(message)


@pytest.mark.parametrize(
    "products",
    [
        _products(50),
        _products(49) + _products(1),
        _products(1) * 50,
        _products(51),
        _products(50) + _products(50)[-1:],
        _products(100) + _products(1),
        ["products/nobody", "products/nobody", *_products(3)],
    ],
    ids=["50", "50-last-repeats-first", "50-same", "51", "51-last-twice", "101", "bad-names"],
)
def test_lists_up_to_max_items_and_beyond_are_protovalidates(products: list[str]) -> None:
    """At and past ``max_items`` (50), and past the 64 items the check reads first;
    each list's violations (``max_items``, item rules) beside the uniqueness one, in
    protovalidate's order.  Its cost: ``python bench/validation.py --crafted``."""
    fast = FastPath()
    for quantity in (1, 0):
        message = _reservation(products, quantity)
        expected = _protovalidates(message)
        assert fast.violations(message) == expected
        assert fast.is_valid(message) == (not expected)


def _field(message: Any, name: str, number: int, kind: int, rules: str = "", **extra: Any) -> None:
    extra = {k: v for k, v in extra.items() if v != ""}
    added = message.field.add(name=name, number=number, type=kind, **extra)
    if rules:
        added.options.Extensions[validate_pb2.field].CopyFrom(
            text_format.Parse(rules, validate_pb2.FieldRules())
        )


def _unique(field: str, var: str = "i", rule_id: str = "u", message: str = "") -> str:
    text = f'id: "{rule_id}" expression: "this.map({var}, {var}.{field}).unique()"'
    return f'cel {{ {text} message: "{message}" }}' if message else f"cel {{ {text} }}"


_REPEATED, _ITEM = F.LABEL_REPEATED, f".{_PACKAGE}.Item"
_SCALARS = [
    ("s", F.TYPE_STRING),
    ("n", F.TYPE_INT32),
    ("u", F.TYPE_UINT64),
    ("z", F.TYPE_SINT64),
    ("b", F.TYPE_BOOL),
    ("e", F.TYPE_ENUM),
]


def _types() -> tuple[Any, Any]:
    """``Item`` (one field per scalar kind, a oneof member, a message, a list, a double)
    and ``Lists``: one repeated ``Item`` field per rule, a nested list, a message rule."""
    file = descriptor_pb2.FileDescriptorProto(
        name="perfval_unique/u.proto", package=_PACKAGE, syntax="proto3"
    )
    file.enum_type.add(name="Kind").value.extend(
        [descriptor_pb2.EnumValueDescriptorProto(name=f"KIND_{i}", number=i) for i in range(3)]
    )
    item = file.message_type.add(name="Item")
    for number, (name, kind) in enumerate(_SCALARS, start=1):
        _field(item, name, number, kind, type_name=f".{_PACKAGE}.Kind" if name == "e" else "")
    item.oneof_decl.add(name="choice")
    _field(item, "o", 7, F.TYPE_STRING, oneof_index=0)
    _field(item, "p", 8, F.TYPE_INT32, oneof_index=0)
    _field(item, "child", 9, F.TYPE_MESSAGE, type_name=_ITEM)
    _field(item, "tags", 10, F.TYPE_STRING, label=_REPEATED)
    _field(item, "d", 11, F.TYPE_DOUBLE)
    _field(item, "k", 12, F.TYPE_STRING, "string { max_len: 1 }")
    box = file.message_type.add(name="Box")
    _field(
        box,
        "items",
        1,
        F.TYPE_MESSAGE,
        _unique("n", "x"),
        label=_REPEATED,
        type_name=_ITEM,
    )
    lists = file.message_type.add(name="Lists")
    rules = {
        "by_s": "repeated { min_items: 1 max_items: 3 } " + _unique("s", message="s once"),
        "by_n": 'cel_expression: "this.map(c, c.e).unique()" ' + _unique("n", "x", "n.once"),
        "by_u": _unique("u") + " " + _unique("z", "j", "z.once", "z once"),
        "by_b": _unique("b", "item") + " required: true",
        "by_e": _unique("e") + " ignore: IGNORE_IF_ZERO_VALUE",
        "by_o": _unique("o") + " " + _unique("p", "q", "p.once"),
    }
    for number, (name, text) in enumerate(rules.items(), start=1):
        _field(
            lists,
            name,
            number,
            F.TYPE_MESSAGE,
            text,
            label=_REPEATED,
            type_name=_ITEM,
        )
    _field(lists, "box", 7, F.TYPE_MESSAGE, type_name=f".{_PACKAGE}.Box")
    lists.options.Extensions[validate_pb2.message].cel.add(
        id="box.k", message="k once per box", expression="this.box.items.map(it, it.k).unique()"
    )
    pool = descriptor_pool.Default()
    pool.Add(file)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Lists")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Item")),
    )


LISTS, ITEM = _types()


def _item(rng: random.Random) -> Any:
    item = ITEM(
        s=rng.choice(["", "a", "b", "é"]),
        n=rng.choice([0, 1, -1]),
        u=rng.choice([0, 2**64 - 1]),
        z=rng.choice([0, -(2**63)]),
        b=rng.random() < 0.5,
        e=rng.choice([0, 1, 2, 7]),
        k=rng.choice(["", "k", "kk"]),
    )
    choice = rng.random()
    if choice < 0.4:
        item.o = rng.choice(["", "o"])
    elif choice < 0.8:
        item.p = rng.choice([0, 3])
    return item


def _lists(rng: random.Random) -> Any:
    lists = LISTS()
    for field in LISTS.DESCRIPTOR.fields:
        if field.name != "box":
            getattr(lists, field.name).extend(_item(rng) for _ in range(rng.randint(0, 4)))
    if rng.random() < 0.7:
        lists.box.items.extend(_item(rng) for _ in range(rng.randint(0, 4)))
    return lists


def test_every_scalar_kind_and_nesting_is_protovalidates() -> None:
    """Field rules with and without a message (and beside ``cel_expression``, list rules,
    ``required``, ``ignore``), oneof members read as their zero value when unset, a
    message rule through a nested message (unset: an empty list), item rules after the
    list's own."""
    fast, validator = FastPath(), protovalidate.Validator()
    assert fast.fallback_reason(LISTS.DESCRIPTOR) is None
    rng = random.Random(11)
    seen: set[str] = set()
    counts = []
    for message in [LISTS(by_s=[ITEM()], by_b=[ITEM()]), *(_lists(rng) for _ in range(300))]:
        expected = [v.proto for v in validator.collect_violations(message)]
        assert fast.violations(message) == expected, message
        assert fast.is_valid(message) == (not expected), message
        seen.update(v.rule_id for v in expected)
        counts.append(len(expected))
    assert min(counts) == 0
    assert {"u", "n.once", "z.once", "p.once", "box.k", "required", "string.max_len"} <= seen
    assert "this.map(c, c.e).unique()" in seen


LOOK_ALIKES = [
    "this.map(i, i.s).size() > 0",
    "this.map(i, i.s).unique() && true",
    "this.map(i, j.s).unique()",
    "this.map(i, i.s.size()).unique()",
    "this.map(i, i.child).unique()",
    "this.map(i, i.tags).unique()",
    "this.map(i, i.d).unique()",
    "this.map(i, i.missing).unique()",
    "this.map(i, i.child.s).unique()",
    "this.map(in, in.s).unique()",
    "this.filter(i, i.n > 0).map(i, i.s).unique()",
    "this.all(i, i.s != '')",
    "this.s.map(i, i.s).unique()",
]


@pytest.mark.parametrize("expression", LOOK_ALIKES)
def test_other_cel_on_a_message_list_goes_to_protovalidate(expression: str) -> None:
    file = descriptor_pb2.FileDescriptorProto(
        name=f"perfval_unique/l{LOOK_ALIKES.index(expression)}.proto",
        package=f"{_PACKAGE}.l{LOOK_ALIKES.index(expression)}",
        syntax="proto3",
        dependency=["perfval_unique/u.proto"],
    )
    holder = file.message_type.add(name="Holder")
    rules = f'cel {{ id: "x" expression: "{expression}" }}'
    _field(holder, "v", 1, F.TYPE_MESSAGE, rules, label=_REPEATED, type_name=_ITEM)
    descriptor_pool.Default().Add(file)
    cls: Any = message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(f"{file.package}.Holder")
    )
    fast = FastPath()
    assert fast.fallback_reason(cls.DESCRIPTOR) is not None
    message = cls(v=[ITEM(s="a"), ITEM(s="a", n=1)])
    try:
        expected = _protovalidates(message)
    except Exception:  # a rule protovalidate cannot compile or evaluate here
        assert not fast.is_valid(message)
        return
    assert fast.violations(message) == expected


@pytest.mark.parametrize(
    ("where", "kind", "rules"),
    [
        ("a list of strings", F.TYPE_STRING, _unique("s")),
        ("a map", None, _unique("s")),
        ("one message", F.TYPE_MESSAGE, _unique("s")),
    ],
)
def test_the_form_on_other_than_a_message_list_goes_to_protovalidate(
    where: str, kind: int | None, rules: str
) -> None:
    name = where.title().replace(" ", "")
    file = descriptor_pb2.FileDescriptorProto(
        name=f"perfval_unique/{name}.proto",
        package=f"{_PACKAGE}.{name.lower()}",
        syntax="proto3",
        dependency=["perfval_unique/u.proto"],
    )
    holder = file.message_type.add(name="Holder")
    if kind is None:
        entry = holder.nested_type.add(name="VEntry")
        entry.options.map_entry = True
        _field(entry, "key", 1, F.TYPE_STRING)
        _field(entry, "value", 2, F.TYPE_MESSAGE, type_name=_ITEM)
        _field(
            holder,
            "v",
            1,
            F.TYPE_MESSAGE,
            rules,
            label=_REPEATED,
            type_name=f".{file.package}.Holder.VEntry",
        )
    elif kind == F.TYPE_MESSAGE:
        _field(holder, "v", 1, kind, rules, type_name=_ITEM)
    else:
        _field(holder, "v", 1, kind, rules, label=_REPEATED)
    descriptor_pool.Default().Add(file)
    cls: Any = message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(f"{file.package}.Holder")
    )
    assert FastPath().fallback_reason(cls.DESCRIPTOR) is not None


def test_the_form_as_a_message_rule_on_the_message_itself_goes_to_protovalidate() -> None:
    file = descriptor_pb2.FileDescriptorProto(
        name="perfval_unique/self.proto", package=f"{_PACKAGE}.self", syntax="proto3"
    )
    holder = file.message_type.add(name="Holder")
    _field(holder, "s", 1, F.TYPE_STRING)
    holder.options.Extensions[validate_pb2.message].cel.add(
        id="x", expression="this.map(i, i.s).unique()"
    )
    descriptor_pool.Default().Add(file)
    cls: Any = message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(f"{_PACKAGE}.self.Holder")
    )
    assert FastPath().fallback_reason(cls.DESCRIPTOR) is not None
