"""Strict JSON bodies: the Lua filter that rejects unknown fields before transcoding.

``grpc_json_transcoder`` drops JSON fields the target message lacks (envoyproxy/envoy#46623).
From the same descriptor set, this module derives, for every transcoded rule with a body, the
keys the body may hold (each field's JSON name and proto name, recursively through message,
repeated and map fields; ``google.protobuf`` well-known types are leaves) and renders
``strict_json.lua`` with that schema and the rules' path templates as Lua patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

from ._contracts import Contracts
from ._local_reply import STRICT_JSON_METADATA

LUA_FILTER = "envoy.filters.http.lua"
MAX_DEPTH = 32
_LEAF_PACKAGE = "google.protobuf."
_RAW_BODY = "google.api.HttpBody"
_LUA_MAGIC = re.compile(r"([\^$()%.\[\]*+\-?])")
_VARIABLE = re.compile(r"\{[^}=]+(?:=([^}]*))?\}")


@dataclass(frozen=True)
class StrictJsonSchema:
    """Allowed body keys, as the Lua filter consumes them.

    Node ids are 1-based as in Lua: ``nodes[k - 1]`` maps each allowed key of one message to
    0 (a leaf), ``k`` (a message, node ``k``) or ``-k`` (a map whose values are node ``k``).
    ``rules`` holds ``(verb, template, Lua pattern, root node id)`` per binding with a body.
    """
    nodes: tuple[dict[str, int], ...]
    rules: tuple[tuple[str, str, str, int], ...]

    def keys(self, verb: str, template: str, *path: str) -> frozenset[str]:
        """Allowed keys of the rule's body, or of the message reached by ``path`` in it."""
        node = next(rule[3] for rule in self.rules if rule[:2] == (verb, template))
        for key in path:
            node = abs(self.nodes[node - 1][key])
            if not node:
                raise KeyError(f"{key} is a leaf")
        return frozenset(self.nodes[node - 1])


def lua_pattern(template: str) -> str:
    """An anchored Lua pattern for a ``google.api.http`` path template: ``*`` is one segment,
    ``**`` the rest of the path, ``{field}`` one segment, ``{field=...}`` its sub-template."""
    flat = _VARIABLE.sub(lambda m: m.group(1) or "*", template)
    literal = _LUA_MAGIC.sub(r"%\1", flat)
    return "^" + literal.replace("%*%*", ".*").replace("%*", "[^/]+") + "$"


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[dict[str, int]] = []
        self.index: dict[str, int] = {}

    def node(self, message: descriptor.Descriptor) -> int:
        """The 1-based id of ``message``'s node, built on first use (recursion-safe)."""
        if message.full_name not in self.index:
            self.nodes.append({})
            self.index[message.full_name] = len(self.nodes)
            fields = self.nodes[-1]
            for field in message.fields:
                fields[field.json_name] = fields[field.name] = self.child(field)
        return self.index[message.full_name]

    def child(self, field: descriptor.FieldDescriptor) -> int:
        message = field.message_type
        if message is None or message.full_name.startswith(_LEAF_PACKAGE):
            return 0
        if message.GetOptions().map_entry:
            return -self.child(message.fields_by_name["value"])
        return self.node(message)


def strict_json_schema(contracts: Contracts) -> StrictJsonSchema:
    """The schema of every routed, non-client-streaming binding whose body is a message."""
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(contracts.descriptor_set).file:
        pool.Add(file)
    builder, rules = _Builder(), []
    for method in contracts.methods:
        if not method.routed or method.client_streaming:
            continue
        request = pool.FindMethodByName(f"{method.service}.{method.name}").input_type
        for binding in method.bindings:
            message = request
            for name in binding.body.split(".") if binding.body not in ("", "*") else ():
                message = message.fields_by_name[name].message_type
            if binding.body and message is not None and message.full_name != _RAW_BODY:
                rules.append((binding.verb, binding.template, lua_pattern(binding.template),
                              builder.node(message)))
    return StrictJsonSchema(tuple(builder.nodes), tuple(rules))


_LUA_SAFE = re.compile(rb"[A-Za-z0-9_\-/.:\[\]^$%{}*+?() ]")


def _lua(value: Any) -> str:
    """``value`` (str, int, dict, tuple, list) as a Lua literal; other bytes become ``\\ddd``."""
    if isinstance(value, str):
        return '"' + "".join(chr(b) if _LUA_SAFE.fullmatch(bytes([b])) else f"\\{b:03d}"
                             for b in value.encode()) + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    return str(int(value))


def strict_json_source(schema: StrictJsonSchema) -> str:
    """The Lua source of the filter: ``strict_json.lua`` with the schema filled in."""
    template = resources.files(__package__).joinpath("strict_json.lua").read_text("utf-8")
    nodes = "{\n" + "".join(f"  {{fields = {_lua(n)}}},\n" for n in schema.nodes) + "}"
    rules = "{\n" + "".join(f"  {_lua((v, p, n))},\n" for v, _, p, n in schema.rules) + "}"
    return (template.replace("@NODES@", nodes).replace("@RULES@", rules)
            .replace("@MAX_DEPTH@", str(MAX_DEPTH))
            .replace("@METADATA@", _lua(STRICT_JSON_METADATA)))


def strict_json_filter(contracts: Contracts) -> dict[str, Any]:
    """``envoy.filters.http.lua`` running the generated source on every request."""
    return {"name": LUA_FILTER, "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
        "stat_prefix": "strict_json",
        "default_source_code": {"inline_string": strict_json_source(strict_json_schema(contracts))},
    }}
