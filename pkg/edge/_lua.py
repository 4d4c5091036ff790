"""Rendering the edge's generated Lua filters: literals, templates and the filter entry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

from ._local_reply import STRICT_JSON_METADATA

_LUA_SAFE = re.compile(rb"[A-Za-z0-9_\-/.:\[\]^$%{}*+?() ]")
_COMMON = "edge_common.lua"
_LUA = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"


def lua_literal(value: Any) -> str:
    """``value`` (str, int, bool, dict, tuple, list) as a Lua literal; a string's other bytes
    become ``\\ddd`` escapes, so any text is safe inside the generated source."""
    if isinstance(value, str):
        return (
            '"'
            + "".join(
                chr(b) if _LUA_SAFE.fullmatch(bytes([b])) else f"\\{b:03d}" for b in value.encode()
            )
            + '"'
        )
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, tuple | list):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    return str(int(value))


def render_lua(template: str, values: Mapping[str, str]) -> str:
    """``edge_common.lua`` followed by the package file ``template``, with every ``@KEY@``
    replaced by ``values[KEY]`` (already Lua source) and ``@METADATA@`` by the namespace of
    the edge's dynamic metadata. ``KeyError`` if a placeholder is left unfilled."""
    files = resources.files(__package__)
    source = (
        files.joinpath(_COMMON).read_text("utf-8")
        + "\n"
        + files.joinpath(template).read_text("utf-8")
    )
    for key, value in {**values, "METADATA": lua_literal(STRICT_JSON_METADATA)}.items():
        source = source.replace(f"@{key}@", value)
    left = re.search(r"@[A-Z_]+@", source)
    if left:
        raise KeyError(f"{template}: {left.group()} is not filled")
    return source


def lua_filter(name: str, stat_prefix: str, source: str) -> dict[str, Any]:
    """An HTTP filter entry named ``name`` running ``source`` on every request."""
    return {
        "name": name,
        "typed_config": {
            "@type": _LUA,
            "stat_prefix": stat_prefix,
            "default_source_code": {"inline_string": source},
        },
    }
