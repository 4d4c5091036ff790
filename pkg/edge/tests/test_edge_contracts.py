"""What the edge derives from the contracts: routes, JWT requirements, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from agora.policy.v1 import policy_pb2
from pkg.edge import EdgeConfigError, load_contracts, route_table
from pkg.policy import Access


def _edited(descriptor_set: Path, method_name: str, edit) -> bytes:  # type: ignore[no-untyped-def]
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    for file in files.file:
        for service in file.service:
            for method in service.method:
                if method.name == method_name:
                    edit(method.options)
    return bytes(files.SerializeToString())


def test_public_rpcs_need_no_token_and_admin_rpcs_do(descriptor_set: Path) -> None:
    routes = {entry.rpc: entry for entry in route_table(descriptor_set)}

    register = routes["/agora.auth.v1.AuthService/Register"]
    assert (register.verb, register.template, register.cluster) == (
        "POST",
        "/v1/auth:register",
        "auth",
    )
    assert not register.requires_jwt
    list_users = routes["/agora.user.v1.UserService/ListUsers"]
    assert list_users.requires_jwt
    assert (list_users.access, list_users.roles) == (Access.ROLES, ("admin",))
    assert routes["/agora.user.v1.UserService/GetUser"].template == "/v1/{name=users/*}"
    assert routes["/agora.auth.v1.AuthService/GetJwks"].verb == "GET"


def test_internal_rpcs_have_no_route(descriptor_set: Path) -> None:
    rpcs = {entry.rpc for entry in route_table(descriptor_set)}

    assert "/agora.user.v1.UserInternalService/CreateUser" not in rpcs
    assert "/agora.user.v1.UserInternalService/VerifyCredentials" not in rpcs
    contracts = load_contracts(descriptor_set)
    assert contracts.transcoded_services == (
        "agora.auth.v1.AuthService",
        "agora.basket.v1.BasketService",
        "agora.catalog.v1.CatalogService",
        "agora.catalog.v1.OfferingService",
        "agora.user.v1.UserService",
    )
    assert "/agora.catalog.v1.CatalogInternalService/BatchGetProducts" not in rpcs
    assert "/agora.basket.v1.BasketInternalService/GetBasketForCheckout" not in rpcs


def test_timeout_defaults_to_five_seconds_and_follows_the_contract(descriptor_set: Path) -> None:
    def slow(options: descriptor_pb2.MethodOptions) -> None:
        options.Extensions[policy_pb2.route].timeout_ms = 12000

    raw = _edited(descriptor_set, "ListUsers", slow)
    timeouts = {entry.rpc.rsplit("/", 1)[1]: entry.timeout_ms for entry in route_table(raw)}

    assert timeouts["ListUsers"] == 12000
    assert timeouts["Login"] == 5000


def test_an_rpc_without_a_rule_gets_no_route(descriptor_set: Path) -> None:
    raw = _edited(
        descriptor_set, "GetUser", lambda options: options.ClearExtension(policy_pb2.rule)
    )

    assert "/agora.user.v1.UserService/GetUser" not in {e.rpc for e in route_table(raw)}


def test_a_rule_with_two_kinds_of_access_is_refused(descriptor_set: Path) -> None:
    def both(options: descriptor_pb2.MethodOptions) -> None:
        options.Extensions[policy_pb2.rule].authenticated = True

    with pytest.raises(EdgeConfigError, match="Login"):
        load_contracts(_edited(descriptor_set, "Login", both))


def test_an_empty_rule_is_refused(descriptor_set: Path) -> None:
    def empty(options: descriptor_pb2.MethodOptions) -> None:
        options.Extensions[policy_pb2.rule].public = False

    with pytest.raises(EdgeConfigError, match="exactly one"):
        load_contracts(_edited(descriptor_set, "Login", empty))


def test_an_internal_rpc_with_an_http_rule_is_refused(descriptor_set: Path) -> None:
    def exposed(options: descriptor_pb2.MethodOptions) -> None:
        options.Extensions[annotations_pb2.http].post = "/v1/users:create"

    with pytest.raises(EdgeConfigError, match="CreateUser is internal"):
        load_contracts(_edited(descriptor_set, "CreateUser", exposed))
