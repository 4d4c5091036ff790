"""The strict edge: the schema of every transcoded rule, and the Lua body check.

``grpc_json_transcoder`` drops JSON fields the target message lacks (envoyproxy/envoy#46623),
lets the last of duplicate keys win, wraps a lone value into a repeated field and lets a query
parameter override a field bound by the path or the body. From the same descriptor set, this
module derives, for every HTTP binding of a routed RPC (``StrictRule``), its path template as
an anchored Lua pattern, the query parameter names that would set a bound field, and the keys
its body may hold (each field's JSON and proto name, recursively through message, repeated
and map fields) with the JSON shape of each (``Spec``). The guard (``_guard``) matches
requests to the rules and checks their query; ``strict_body.lua``, rendered here with the
nodes, checks their bodies and answers 415 to a body that is not ``application/json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

from ._contracts import Contracts
from ._lua import lua_filter, lua_literal, render_lua

STRICT_BODY_FILTER = "agora.edge.strict_body"
MAX_DEPTH = 32
_LEAF_PACKAGE = "google.protobuf."
_RAW_BODY = "google.api.HttpBody"
_LUA_MAGIC = re.compile(r"([\^$()%.\[\]*+\-?])")
_VARIABLE = re.compile(r"\{[^}=]+(?:=([^}]*))?\}")


Spec = tuple[Any, ...]
"""A JSON value's expected shape: ``("scalar",)`` (string, number, bool or null), ``("any",)``
(well-known types such as Struct, Value, Any: unchecked), ``("message", k)`` (an object of
node ``k``), ``("list", item)`` (an array of ``item``) or ``("map", value)`` (an object with any
keys whose values are ``value``). ``null`` is accepted everywhere (proto3 JSON: the default)."""

_SCALAR_TYPES = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.DoubleValue",
        "google.protobuf.FloatValue",
        "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value",
        "google.protobuf.Int32Value",
        "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue",
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
    }
)


@dataclass(frozen=True)
class StrictRule:
    """One transcoded HTTP binding as the edge's Lua filters check it.

    ``pattern`` is the anchored Lua pattern of ``template``; ``rpc`` the gRPC path it is
    transcoded to; ``root`` the node id of the body message (0: the rule takes no JSON body,
    or streams it); ``bound`` every query parameter name that would set a field bound by the
    path or the body (JSON and proto spellings, a parameter equal to one of them or a dotted
    sub-field of one is refused); ``any_query`` is false for ``body: "*"`` rules, which take
    no query parameter at all.
    """

    verb: str
    template: str
    pattern: str
    root: int
    bound: tuple[str, ...]
    any_query: bool = True
    rpc: str = ""


@dataclass(frozen=True)
class StrictJsonSchema:
    """Allowed body keys and their shapes, and per-rule query checks, as the Lua filter
    consumes them.

    Node ids are 1-based as in Lua: ``nodes[k - 1]`` maps each allowed key of one message
    (JSON and proto name) to ``(proto name, Spec)``; the proto name identifies the field, so a
    field given twice under either name is refused.
    """

    nodes: tuple[dict[str, tuple[str, Spec]], ...]
    rules: tuple[StrictRule, ...]

    def rule(self, verb: str, template: str) -> StrictRule:
        """The rule of binding ``verb template``; ``StopIteration`` when there is none."""
        return next(r for r in self.rules if (r.verb, r.template) == (verb, template))

    def keys(self, verb: str, template: str, *path: str) -> frozenset[str]:
        """Allowed keys of the rule's body, or of the message reached by ``path`` in it
        (through lists and maps). ``KeyError`` when ``path`` reaches no message."""
        spec: Spec = ("message", self.rule(verb, template).root)
        for key in path:
            spec = self.nodes[spec[1] - 1][key][1]
            while spec[0] in ("list", "map"):
                spec = spec[1]
            if spec[0] != "message":
                raise KeyError(f"{key} is a leaf")
        return frozenset(self.nodes[spec[1] - 1])


def lua_pattern(template: str) -> str:
    """An anchored Lua pattern for a ``google.api.http`` path template: ``*`` is one segment,
    ``**`` the rest of the path, ``{field}`` one segment, ``{field=...}`` its sub-template."""
    flat = _VARIABLE.sub(lambda m: m.group(1) or "*", template)
    literal = _LUA_MAGIC.sub(r"%\1", flat)
    return "^" + literal.replace("%*%*", ".*").replace("%*", "[^/]+") + "$"


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[dict[str, tuple[str, Spec]]] = []
        self.index: dict[str, int] = {}

    def node(self, message: descriptor.Descriptor) -> int:
        """The 1-based id of ``message``'s node, built on first use (recursion-safe)."""
        if message.full_name not in self.index:
            self.nodes.append({})
            self.index[message.full_name] = len(self.nodes)
            fields = self.nodes[-1]
            for field in message.fields:
                fields[field.json_name] = fields[field.name] = (field.name, self.spec(field))
        return self.index[message.full_name]

    def spec(self, field: descriptor.FieldDescriptor) -> Spec:
        message = field.message_type
        if message is not None and message.GetOptions().map_entry:
            return ("map", self.value(message.fields_by_name["value"]))
        value = self.value(field)
        return ("list", value) if field.is_repeated else value

    def value(self, field: descriptor.FieldDescriptor) -> Spec:
        message = field.message_type
        if message is None or message.full_name in _SCALAR_TYPES:
            return ("scalar",)
        if message.full_name.startswith(_LEAF_PACKAGE):
            return ("any",)
        return ("message", self.node(message))


_VARIABLE_NAMES = re.compile(r"\{([^}=]+)")


def _spellings(message: descriptor.Descriptor, dotted: str) -> set[str]:
    """Every JSON/proto spelling of the field path ``dotted`` (``user.name`` ->
    ``user.name``, and e.g. ``displayName`` for ``display_name``)."""
    names: list[set[str]] = []
    current: descriptor.Descriptor | None = message
    for part in dotted.split("."):
        field = current.fields_by_name.get(part) if current is not None else None
        names.append({part, field.json_name} if field is not None else {part})
        current = field.message_type if field is not None else None
    spelled = {""}
    for options in names:
        spelled = {f"{head}.{name}" if head else name for head in spelled for name in options}
    return spelled


def strict_json_schema(contracts: Contracts) -> StrictJsonSchema:
    """The schema of every binding of a routed RPC (a client-streaming one has no body
    check: its root is 0)."""
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(contracts.descriptor_set).file:
        pool.Add(file)
    builder, rules = _Builder(), []
    for method in contracts.methods:
        if not method.routed:
            continue
        request = pool.FindMethodByName(f"{method.service}.{method.name}").input_type
        for binding in method.bindings:
            message: descriptor.Descriptor | None = request
            for name in binding.body.split(".") if binding.body not in ("", "*") else ():
                if message is not None:
                    message = message.fields_by_name[name].message_type
            root = 0
            if (
                binding.body
                and message is not None
                and message.full_name != _RAW_BODY
                and not method.client_streaming
            ):
                root = builder.node(message)
            bound = set().union(
                *(_spellings(request, name) for name in _VARIABLE_NAMES.findall(binding.template))
            )
            if binding.body not in ("", "*"):
                bound |= _spellings(request, binding.body)
            rules.append(
                StrictRule(
                    binding.verb,
                    binding.template,
                    lua_pattern(binding.template),
                    root,
                    tuple(sorted(bound)),
                    binding.body != "*",
                    method.grpc_path,
                )
            )
    return StrictJsonSchema(tuple(builder.nodes), tuple(sorted(rules, key=_precedence)))


def _precedence(rule: StrictRule) -> tuple[int, ...]:
    """Most specific template first, segment by segment (a literal before ``*`` before
    ``**``, and a template that goes on, e.g. with a custom verb, before one that ends
    there: ``/v1/offerings/*:listProviders`` before ``/v1/offerings/*``, whose ``*`` would
    also take ``x:listProviders``), the order in which the transcoder's path matcher prefers
    them, so the guard's first match is the transcoder's RPC (the route checks it, see
    ``_routes``)."""
    flat = _VARIABLE.sub(lambda m: m.group(1) or "*", rule.template)
    parts = tuple(
        2 if part == "**" else 1 if "*" in part else 0
        for part in flat.strip("/").replace(":", "/:").split("/")
    )
    return (*parts, 3)


def strict_body_source(schema: StrictJsonSchema) -> str:
    """The Lua source of the body check: ``strict_body.lua`` with the schema filled in."""
    nodes = "{\n" + "".join(f"  {lua_literal(n)},\n" for n in schema.nodes) + "}"
    return render_lua(
        "strict_body.lua",
        {
            "NODES": nodes,
            "ROOTS": lua_literal([r.root for r in schema.rules]),
            "MAX_DEPTH": str(MAX_DEPTH),
        },
    )


def strict_body_filter(schema: StrictJsonSchema) -> dict[str, Any]:
    """The Lua filter checking HTTP/JSON bodies against ``schema`` (after the guard)."""
    return lua_filter(STRICT_BODY_FILTER, "strict_body", strict_body_source(schema))
