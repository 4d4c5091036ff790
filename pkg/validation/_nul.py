"""Compile, per message type, a check that no string at any depth holds U+0000.

The check answers ``True`` when ``pkg.server._requests.nul_violations`` would find nothing:
singular and repeated strings, map keys and values, set submessages, repeated message items
and map message values.  It only reads; a type whose strings cannot hold NUL costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

NulFree = Callable[[Any], bool]
_NO_STRINGS = frozenset({"google.protobuf.Timestamp", "google.protobuf.Duration"})


def _all_of(checks: list[NulFree]) -> NulFree:
    def check(value: Any) -> bool:
        for one in checks:
            if not one(value):
                return False
        return True

    return check


class NulCompiler:
    """Builds and caches one NUL-free check per message type (by full name)."""

    def __init__(self) -> None:
        self._checks: dict[str, list[NulFree]] = {}

    def compile(self, descriptor: Descriptor) -> NulFree:
        """Whether a message of ``descriptor`` holds no U+0000 in any string."""
        return _all_of(self._compiled(descriptor))

    def _compiled(self, descriptor: Descriptor) -> list[NulFree]:
        if descriptor.full_name in self._checks:
            return self._checks[descriptor.full_name]
        checks: list[NulFree] = []
        self._checks[descriptor.full_name] = checks
        for field in descriptor.fields:
            check = self._field(field)
            if check is not None:
                checks.append(check)
        return checks

    def _field(self, field: FieldDescriptor) -> NulFree | None:
        name = field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                return lambda m: not any("\x00" in s for s in getattr(m, name))
            return lambda m: "\x00" not in getattr(m, name)
        message_type = field.message_type
        if message_type is None or message_type.full_name in _NO_STRINGS:
            return None
        if message_type.GetOptions().map_entry:
            key, value = message_type.fields_by_name["key"], message_type.fields_by_name["value"]
            key_text = key.type == FieldDescriptor.TYPE_STRING
            if value.message_type is not None:
                inner = self.compile(value.message_type)
                return lambda m: all(
                    not (key_text and "\x00" in k) and inner(v) for k, v in getattr(m, name).items()
                )
            value_text = value.type == FieldDescriptor.TYPE_STRING
            if not (key_text or value_text):
                return None
            return lambda m: (
                not any(
                    (key_text and "\x00" in k) or (value_text and "\x00" in v)
                    for k, v in getattr(m, name).items()
                )
            )
        inner = self.compile(message_type)
        if field.is_repeated:
            return lambda m: all(inner(item) for item in getattr(m, name))
        return lambda m: not m.HasField(name) or inner(getattr(m, name))
