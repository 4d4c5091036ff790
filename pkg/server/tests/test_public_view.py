"""The public view's pruning, on a small contract written for it and on Agora's own."""

from __future__ import annotations

from typing import Any

import pytest
from google.api import annotations_pb2, field_behavior_pb2, resource_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

from agora.policy.v1 import policy_pb2
from pkg.contracts import import_contracts
from pkg.server._public_view import ERROR_TYPES, public_pool

Field = descriptor_pb2.FieldDescriptorProto
Message = descriptor_pb2.DescriptorProto
Enum = descriptor_pb2.EnumDescriptorProto
_DEPENDENCIES = (
    "google/protobuf/timestamp.proto",
    "google/api/annotations.proto",
    "google/api/field_behavior.proto",
    "google/api/resource.proto",
    "agora/policy/v1/policy.proto",
)


def _field(
    name: str,
    number: int,
    kind: Field.Type.ValueType,
    type_name: str = "",
    *,
    repeated: bool = False,
) -> Field:
    label = Field.LABEL_REPEATED if repeated else Field.LABEL_OPTIONAL
    field = Field(name=name, number=number, type=kind, label=label)
    if type_name:
        field.type_name = type_name
    return field


def _enum(name: str, *values: str) -> Enum:
    return Enum(
        name=name,
        value=[
            descriptor_pb2.EnumValueDescriptorProto(name=v, number=i) for i, v in enumerate(values)
        ],
    )


def _method(
    name: str, request: str, response: str, *, http: str = "", callers: bool = False
) -> descriptor_pb2.MethodDescriptorProto:
    method = descriptor_pb2.MethodDescriptorProto(
        name=name, input_type=request, output_type=response
    )
    if http:
        method.options.Extensions[annotations_pb2.http].get = http
    rule = method.options.Extensions[policy_pb2.rule]
    if callers:
        rule.callers.append("auth")
    else:
        rule.public = True
    return method


def _shop_files() -> list[descriptor_pb2.FileDescriptorProto]:
    """``shop/v1/audit.proto`` (used only internally) and ``shop/v1/shop.proto``: a public
    service with one public and one internal RPC, an internal service, and types of each."""
    audit = descriptor_pb2.FileDescriptorProto(
        name="shop/v1/audit.proto",
        package="shop.v1",
        syntax="proto3",
        message_type=[
            Message(name="AuditReport", field=[_field("findings", 1, Field.TYPE_STRING)])
        ],
    )
    shop = descriptor_pb2.FileDescriptorProto(
        name="shop/v1/shop.proto",
        package="shop.v1",
        syntax="proto3",
        dependency=[*_DEPENDENCIES, "shop/v1/audit.proto"],
    )
    tags_entry = Message(
        name="TagsEntry",
        field=[
            _field("key", 1, Field.TYPE_STRING),
            _field("value", 2, Field.TYPE_MESSAGE, ".shop.v1.Tag"),
        ],
    )
    tags_entry.options.map_entry = True
    item = Message(
        name="Item",
        field=[
            _field("name", 1, Field.TYPE_STRING),
            _field("price", 2, Field.TYPE_MESSAGE, ".shop.v1.Item.Price"),
            _field("tags", 3, Field.TYPE_MESSAGE, ".shop.v1.Item.TagsEntry", repeated=True),
            _field("kind", 4, Field.TYPE_ENUM, ".shop.v1.Item.Kind"),
            _field("create_time", 5, Field.TYPE_MESSAGE, ".google.protobuf.Timestamp"),
        ],
        nested_type=[
            Message(
                name="Price",
                field=[
                    _field("units", 1, Field.TYPE_INT64),
                    _field("currency", 2, Field.TYPE_ENUM, ".shop.v1.Currency"),
                ],
            ),
            Message(name="Secret", field=[_field("key", 1, Field.TYPE_STRING)]),
            tags_entry,
        ],
        enum_type=[_enum("Kind", "KIND_UNSPECIFIED", "KIND_BOOK")],
    )
    item.field[0].options.Extensions[field_behavior_pb2.field_behavior].append(
        field_behavior_pb2.IDENTIFIER
    )
    audit_request = Message(name="AuditRequest", field=[_field("password", 1, Field.TYPE_STRING)])
    audit_request.options.Extensions[resource_pb2.resource].type = "shop.local/Audit"
    shop.message_type.extend(
        [
            item,
            Message(name="Tag", field=[_field("label", 1, Field.TYPE_STRING)]),
            Message(
                name="Holder",
                field=[_field("secret", 1, Field.TYPE_STRING)],
                nested_type=[Message(name="Inner", field=[_field("x", 1, Field.TYPE_STRING)])],
            ),
            Message(
                name="GetItemRequest",
                field=[
                    _field("name", 1, Field.TYPE_STRING),
                    _field("inner", 2, Field.TYPE_MESSAGE, ".shop.v1.Holder.Inner"),
                ],
            ),
            Message(
                name="RestockRequest",
                field=[
                    _field("name", 1, Field.TYPE_STRING),
                    _field("level", 2, Field.TYPE_ENUM, ".shop.v1.Sensitivity"),
                ],
            ),
            audit_request,
        ]
    )
    shop.enum_type.extend(
        [
            _enum("Currency", "CURRENCY_UNSPECIFIED", "CURRENCY_EUR"),
            _enum("Sensitivity", "SENSITIVITY_UNSPECIFIED", "SENSITIVITY_HIGH"),
        ]
    )
    shop.service.extend(
        [
            descriptor_pb2.ServiceDescriptorProto(
                name="PublicShop",
                method=[
                    _method(
                        "GetItem", ".shop.v1.GetItemRequest", ".shop.v1.Item", http="/v1/items"
                    ),
                    _method("Restock", ".shop.v1.RestockRequest", ".shop.v1.Item", callers=True),
                ],
            ),
            descriptor_pb2.ServiceDescriptorProto(
                name="ShopInternal",
                method=[
                    _method("Audit", ".shop.v1.AuditRequest", ".shop.v1.AuditReport", callers=True)
                ],
            ),
        ]
    )
    return [audit, shop]


@pytest.fixture(scope="module")
def source() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    default = descriptor_pool.Default()
    for name in ("google/protobuf/descriptor.proto", "google/api/http.proto", *_DEPENDENCIES):
        proto = descriptor_pb2.FileDescriptorProto()
        default.FindFileByName(name).CopyToProto(proto)
        pool.Add(proto)
    audit, shop = _shop_files()
    pool.Add(audit)
    pool.Add(shop)
    return pool


@pytest.fixture(scope="module")
def view(
    source: descriptor_pool.DescriptorPool,
) -> tuple[descriptor_pool.DescriptorPool, list[str]]:
    return public_pool(
        ["shop.v1.PublicShop", "shop.v1.ShopInternal"], source=source, error_types=()
    )


def _has(pool: descriptor_pool.DescriptorPool, symbol: str) -> bool:
    try:
        pool.FindFileContainingSymbol(symbol)
    except KeyError:
        return False
    return True


def test_only_the_public_service_and_method_are_listed(
    view: tuple[descriptor_pool.DescriptorPool, list[str]],
) -> None:
    pool, public = view
    assert public == ["shop.v1.PublicShop"]
    methods = [m.name for m in pool.FindServiceByName("shop.v1.PublicShop").methods]
    assert methods == ["GetItem"]
    assert not _has(pool, "shop.v1.ShopInternal")


def test_a_public_methods_whole_type_closure_stays(
    view: tuple[descriptor_pool.DescriptorPool, list[str]], source: descriptor_pool.DescriptorPool
) -> None:
    pool, _ = view
    for symbol in (
        "shop.v1.GetItemRequest",
        "shop.v1.Item",
        "shop.v1.Item.Price",
        "shop.v1.Item.TagsEntry",
        "shop.v1.Item.Kind",
        "shop.v1.Tag",
        "shop.v1.Currency",
        "shop.v1.Holder.Inner",
        "google.protobuf.Timestamp",
        "google.api.http",
        "agora.policy.v1.rule",
        "agora.policy.v1.Rule",
        "google.protobuf.MethodOptions",
    ):
        assert _has(pool, symbol), symbol
    for name in ("shop.v1.Item", "shop.v1.Item.Price", "shop.v1.GetItemRequest"):
        kept, original = descriptor_pb2.DescriptorProto(), descriptor_pb2.DescriptorProto()
        pool.FindMessageTypeByName(name).CopyToProto(kept)
        source.FindMessageTypeByName(name).CopyToProto(original)
        assert kept.field == original.field, name
    item_class = message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.v1.Item"))
    item: Any = json_format.Parse(
        '{"name": "book", "price": {"units": "12", "currency": '
        '"CURRENCY_EUR"}, "tags": {"a": {"label": "new"}}, '
        '"kind": "KIND_BOOK", "createTime": "2026-01-01T00:00:00Z"}',
        item_class(),
    )
    assert item.tags["a"].label == "new"
    assert item.price.currency == 1


def test_internal_messages_go_also_from_a_kept_file(
    view: tuple[descriptor_pool.DescriptorPool, list[str]],
) -> None:
    pool, _ = view
    for symbol in (
        "shop.v1.RestockRequest",
        "shop.v1.AuditRequest",
        "shop.v1.AuditReport",
        "shop.v1.Item.Secret",
    ):
        assert not _has(pool, symbol), symbol
    holder = pool.FindMessageTypeByName("shop.v1.Holder")
    assert [f.name for f in holder.fields] == []
    with pytest.raises(KeyError):
        pool.FindFileByName("shop/v1/audit.proto")
    shop = pool.FindFileByName("shop/v1/shop.proto")
    assert "shop/v1/audit.proto" not in [d.name for d in shop.dependencies]


def test_an_enum_used_only_internally_goes(
    view: tuple[descriptor_pool.DescriptorPool, list[str]],
) -> None:
    pool, _ = view
    assert not _has(pool, "shop.v1.Sensitivity")
    assert _has(pool, "shop.v1.Currency")


def test_an_extension_set_only_on_internal_messages_goes(
    view: tuple[descriptor_pool.DescriptorPool, list[str]],
) -> None:
    pool, _ = view
    method_options = pool.FindMessageTypeByName("google.protobuf.MethodOptions")
    assert {x.full_name for x in pool.FindAllExtensions(method_options)} == {
        "google.api.http",
        "agora.policy.v1.rule",
    }
    field_options = pool.FindMessageTypeByName("google.protobuf.FieldOptions")
    assert [x.full_name for x in pool.FindAllExtensions(field_options)] == [
        "google.api.field_behavior"
    ]
    assert not _has(pool, "google.api.resource")
    with pytest.raises(KeyError):
        pool.FindFileByName("google/api/resource.proto")


@pytest.fixture(scope="module")
def agora_view() -> tuple[descriptor_pool.DescriptorPool, list[str]]:
    return public_pool(import_contracts())


def test_agoras_view_has_no_internal_request(
    agora_view: tuple[descriptor_pool.DescriptorPool, list[str]],
) -> None:
    pool, public = agora_view
    assert public == [
        "agora.auth.v1.AuthService",
        "agora.basket.v1.BasketService",
        "agora.catalog.v1.CatalogService",
        "agora.catalog.v1.OfferingService",
        "agora.user.v1.UserService",
    ]
    for symbol in (
        "agora.user.v1.VerifyCredentialsRequest",
        "agora.user.v1.CreateUserRequest",
        "agora.user.v1.UserInternalService",
        "agora.catalog.v1.CatalogInternalService",
        "agora.catalog.v1.BatchGetProductsRequest",
        "agora.basket.v1.BasketInternalService",
        "agora.basket.v1.GetBasketForCheckoutRequest",
        "agora.basket.v1.ClearCheckedOutBasketRequest",
    ):
        assert not _has(pool, symbol), symbol
    for symbol in (
        "agora.user.v1.GetUserRequest",
        "agora.user.v1.Role",
        "agora.auth.v1.LoginRequest",
        "google.api.HttpBody",
        "buf.validate.FieldRules",
        *ERROR_TYPES,
    ):
        assert _has(pool, symbol), symbol
