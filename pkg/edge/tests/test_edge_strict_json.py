"""The schema of allowed JSON body keys and the Lua source, derived from the contracts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from pkg.edge import load_contracts, strict_json_schema
from pkg.edge._guard import guard_source
from pkg.edge._strict_json import lua_pattern, strict_body_source

from .conftest import with_tree_service

USER_KEYS = {
    "name",
    "email",
    "displayName",
    "display_name",
    "roles",
    "createTime",
    "create_time",
    "updateTime",
    "update_time",
    "etag",
    "state",
}
UPDATE = ("PATCH", "/v1/{user.name=users/*}")


def test_register_allows_json_and_proto_names(descriptor_set: Path) -> None:
    schema = strict_json_schema(load_contracts(descriptor_set))

    assert schema.keys("POST", "/v1/auth:register") == {
        "email",
        "password",
        "displayName",
        "display_name",
        "roles",
        "requestId",
        "request_id",
    }
    assert schema.keys("POST", "/v1/auth:login") == {"email", "password"}
    assert schema.keys("POST", "/v1/auth:logoutAll") == set()


def test_update_user_checks_the_user_field_as_the_body(descriptor_set: Path) -> None:
    schema = strict_json_schema(load_contracts(descriptor_set))

    assert schema.keys(*UPDATE) == USER_KEYS
    assert schema.rule(*UPDATE).pattern == "^/v1/users/[^/]+$"


def test_rules_without_a_body_have_no_root_and_internal_rpcs_no_rule(descriptor_set: Path) -> None:
    schema = strict_json_schema(load_contracts(descriptor_set))
    roots = {(rule.verb, rule.template): rule.root for rule in schema.rules}

    assert roots["GET", "/v1/users"] == roots["GET", "/v1/{name=users/*}"] == 0
    assert roots["GET", "/.well-known/jwks.json"] == 0
    bindings = [b for m in load_contracts(descriptor_set).methods if m.routed for b in m.bindings]
    assert set(roots) == {(b.verb, b.template) for b in bindings}
    assert {key for key, root in roots.items() if root} == {
        (b.verb, b.template) for b in bindings if b.body
    }
    assert not any("Internal" in rule.template for rule in schema.rules)


def test_a_custom_verb_is_tried_before_the_template_it_extends(descriptor_set: Path) -> None:
    order = [(r.verb, r.template) for r in strict_json_schema(load_contracts(descriptor_set)).rules]

    assert order.index(("GET", "/v1/{offering=offerings/*}:listProviders")) < order.index(
        ("GET", "/v1/{name=offerings/*}")
    )


def test_query_parameters_may_not_name_fields_bound_by_the_path_or_the_body(
    descriptor_set: Path,
) -> None:
    schema = strict_json_schema(load_contracts(descriptor_set))

    assert schema.rule("GET", "/v1/{name=users/*}").bound == ("name",)
    assert schema.rule(*UPDATE).bound == ("user", "user.name")
    assert schema.rule("GET", "/v1/users").any_query
    assert not schema.rule("POST", "/v1/auth:login").any_query  # body "*": no query at all


def test_each_field_knows_its_proto_name_and_json_shape(descriptor_set: Path) -> None:
    schema = strict_json_schema(load_contracts(descriptor_set))
    user = schema.nodes[schema.rule(*UPDATE).root - 1]

    assert user["displayName"] == user["display_name"] == ("display_name", ("scalar",))
    assert user["roles"] == ("roles", ("list", ("scalar",)))
    assert user["createTime"] == ("create_time", ("scalar",))  # Timestamp: an RFC 3339 string


def test_a_star_body_descends_into_messages_but_not_well_known_types(descriptor_set: Path) -> None:
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    for method in (m for f in files.file for s in f.service for m in s.method):
        if method.name == "UpdateUser":
            method.options.Extensions[annotations_pb2.http].body = "*"
    schema = strict_json_schema(load_contracts(bytes(files.SerializeToString())))

    assert schema.keys(*UPDATE) == {"user", "updateMask", "update_mask"}
    assert schema.keys(*UPDATE, "user") == USER_KEYS
    with pytest.raises(KeyError, match="leaf"):
        schema.keys(*UPDATE, "updateMask")
    with pytest.raises(KeyError, match="leaf"):
        schema.keys(*UPDATE, "user", "createTime")


def test_recursive_messages_repeated_fields_and_maps(descriptor_set: Path) -> None:
    schema = strict_json_schema(load_contracts(with_tree_service(descriptor_set)))
    plant = ("POST", "/v1/{node_id=trees/*}:plant")
    node_keys = {"nodeId", "node_id", "kids", "byName", "by_name", "extra"}
    root = schema.rule(*plant).root

    assert schema.keys(*plant) == node_keys
    assert schema.keys(*plant, "kids", "by_name", "kids") == node_keys
    assert schema.nodes[root - 1]["byName"] == ("by_name", ("map", ("message", root)))
    assert schema.nodes[root - 1]["kids"] == ("kids", ("list", ("message", root)))
    assert schema.nodes[root - 1]["extra"] == ("extra", ("scalar",))
    assert schema.rule(*plant).pattern == "^/v1/trees/[^/]+:plant$"
    assert schema.rule(*plant).bound == ("nodeId", "node_id")


@pytest.mark.parametrize(
    ("template", "pattern"),
    [
        ("/v1/auth:login", "^/v1/auth:login$"),
        ("/v1/{name=users/*}", "^/v1/users/[^/]+$"),
        ("/v1/{name}", "^/v1/[^/]+$"),
        ("/.well-known/jwks.json", "^/%.well%-known/jwks%.json$"),
        ("/v1/{name=shelves/*/books/**}:archive", "^/v1/shelves/[^/]+/books/.*:archive$"),
    ],
)
def test_path_templates_become_anchored_lua_patterns(template: str, pattern: str) -> None:
    assert lua_pattern(template) == pattern


def test_the_lua_sources_embed_the_schema(descriptor_set: Path) -> None:
    schema = strict_json_schema(load_contracts(descriptor_set))
    body, guard = strict_body_source(schema), guard_source(schema)

    assert not re.search(r"@[A-Z_]+@", body + guard)
    assert re.search(
        r'\{"POST", "\^/v1/auth:login\$", \{\}, 0, '
        r'"/agora.auth.v1.AuthService/Login"\}',
        guard,
    )
    assert '["display_name"] = {"display_name", {"scalar"}}' in body
    assert "function envoy_on_request(handle)" in body and "function envoy_on_request" in guard
