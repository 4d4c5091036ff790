"""Print a ``FileDescriptorProto`` as ``.proto`` source, options included.

Used once, by ``tools/vendor_protos.py``, to vendor ``buf/validate/validate.proto``: no
package ships that file as source, but protovalidate 2.x wheels carry its serialized
descriptor.  The printer covers what that file uses (proto2 and proto3 syntax, nested
messages and enums, oneofs, ``extend`` blocks, reserved ranges and names, and field,
message, oneof, enum and file options, extensions within options included).  The grammar
printed is the Protocol Buffers language specification
(https://protobuf.dev/reference/protobuf/proto2-spec/).
"""

from __future__ import annotations

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    text_encoding,
    text_format,
)
from google.protobuf.message import Message

_T = descriptor_pb2.FieldDescriptorProto
_SCALAR = {
    _T.TYPE_DOUBLE: "double", _T.TYPE_FLOAT: "float", _T.TYPE_INT64: "int64",
    _T.TYPE_UINT64: "uint64", _T.TYPE_INT32: "int32", _T.TYPE_FIXED64: "fixed64",
    _T.TYPE_FIXED32: "fixed32", _T.TYPE_BOOL: "bool", _T.TYPE_STRING: "string",
    _T.TYPE_BYTES: "bytes", _T.TYPE_UINT32: "uint32", _T.TYPE_SFIXED32: "sfixed32",
    _T.TYPE_SFIXED64: "sfixed64", _T.TYPE_SINT32: "sint32", _T.TYPE_SINT64: "sint64",
}
_MAX_FIELD = 536870911


class _Printer:
    def __init__(self, fd: descriptor_pb2.FileDescriptorProto,
                 deps: list[descriptor_pb2.FileDescriptorProto]) -> None:
        self.fd = fd
        self.pool = descriptor_pool.DescriptorPool()
        for dep in [*deps, fd]:
            self.pool.Add(dep)
        self.out: list[str] = []

    def _reparse(self, opts: Message) -> Message:
        """Re-read options so extensions defined in this pool are fields, not unknowns."""
        cls = message_factory.GetMessageClass(
            self.pool.FindMessageTypeByName(opts.DESCRIPTOR.full_name))
        return cls.FromString(opts.SerializeToString())

    def _option_items(self, opts: Message) -> list[str]:
        items: list[str] = []
        for field, value in self._reparse(opts).ListFields():
            name = f"({field.full_name})" if field.is_extension else field.name
            values = value if field.is_repeated else [value]
            for v in values:
                items.append(f"{name} = {self._value(field, v)}")
        return items

    def _value(self, field, v) -> str:  # type: ignore[no-untyped-def]
        if field.message_type is not None:
            body = text_format.MessageToString(v, as_one_line=True, descriptor_pool=self.pool)
            return "{ " + body + " }" if body else "{}"
        if field.enum_type is not None:
            return field.enum_type.values_by_number[v].name
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + text_encoding.CEscape(v, as_utf8=True) + '"'
        if isinstance(v, bytes):
            return '"' + text_encoding.CEscape(v, as_utf8=False) + '"'
        return repr(v)

    def line(self, depth: int, text: str) -> None:
        self.out.append("  " * depth + text)

    def print_file(self) -> str:
        fd = self.fd
        self.line(0, f'syntax = "{fd.syntax or "proto2"}";')
        self.line(0, "")
        self.line(0, f"package {fd.package};")
        self.line(0, "")
        for dep in fd.dependency:
            self.line(0, f'import "{dep}";')
        self.line(0, "")
        for item in self._option_items(fd.options):
            self.line(0, f"option {item};")
        for msg in fd.message_type:
            self.line(0, "")
            self.message(msg, 0)
        for enum in fd.enum_type:
            self.line(0, "")
            self.enum(enum, 0)
        self.extends(fd.extension, 0)
        return "\n".join(self.out) + "\n"

    def message(self, msg: descriptor_pb2.DescriptorProto, depth: int) -> None:
        self.line(depth, f"message {msg.name} {{")
        for item in self._option_items(msg.options):
            self.line(depth + 1, f"option {item};")
        for nested in msg.nested_type:
            if not nested.options.map_entry:
                self.message(nested, depth + 1)
        for enum in msg.enum_type:
            self.enum(enum, depth + 1)
        oneof_done: set[int] = set()
        for field in msg.field:
            if field.HasField("oneof_index") and not field.proto3_optional:
                idx = field.oneof_index
                if idx in oneof_done:
                    continue
                oneof_done.add(idx)
                decl = msg.oneof_decl[idx]
                self.line(depth + 1, f"oneof {decl.name} {{")
                for item in self._option_items(decl.options):
                    self.line(depth + 2, f"option {item};")
                for member in msg.field:
                    if member.HasField("oneof_index") and member.oneof_index == idx:
                        self.field(member, depth + 2, in_oneof=True, msg=msg)
                self.line(depth + 1, "}")
            else:
                self.field(field, depth + 1, in_oneof=False, msg=msg)
        for rng in msg.extension_range:
            end = "max" if rng.end - 1 >= _MAX_FIELD else str(rng.end - 1)
            self.line(depth + 1, f"extensions {rng.start} to {end};")
        for rng in msg.reserved_range:
            text = str(rng.start) if rng.end - 1 == rng.start else f"{rng.start} to {rng.end - 1}"
            self.line(depth + 1, f"reserved {text};")
        for name in msg.reserved_name:
            self.line(depth + 1, f'reserved "{name}";')
        self.extends(msg.extension, depth + 1)
        self.line(depth, "}")

    def _type(self, field: descriptor_pb2.FieldDescriptorProto,
              msg: descriptor_pb2.DescriptorProto | None) -> str:
        if field.type in _SCALAR:
            return _SCALAR[field.type]
        if msg is not None and field.type == _T.TYPE_MESSAGE:
            for nested in msg.nested_type:
                if nested.options.map_entry and field.type_name.endswith("." + nested.name):
                    key, val = nested.field
                    return f"map<{self._type(key, None)}, {self._type(val, None)}>"
        return field.type_name

    def field(self, field: descriptor_pb2.FieldDescriptorProto, depth: int, *,
              in_oneof: bool, msg: descriptor_pb2.DescriptorProto | None) -> None:
        type_name = self._type(field, msg)
        label = ""
        if not in_oneof and not type_name.startswith("map<"):
            if field.label == _T.LABEL_REPEATED:
                label = "repeated "
            elif field.label == _T.LABEL_REQUIRED:
                label = "required "
            elif self.fd.syntax != "proto3" or field.proto3_optional:
                label = "optional "
        opts: list[str] = []
        if field.HasField("default_value"):
            default = field.default_value
            if field.type in (_T.TYPE_STRING, _T.TYPE_BYTES):
                default = f'"{default}"'
            opts.append(f"default = {default}")
        opts.extend(self._option_items(field.options))
        suffix = f" [{', '.join(opts)}]" if opts else ""
        self.line(depth, f"{label}{type_name} {field.name} = {field.number}{suffix};")

    def enum(self, enum: descriptor_pb2.EnumDescriptorProto, depth: int) -> None:
        self.line(depth, f"enum {enum.name} {{")
        for item in self._option_items(enum.options):
            self.line(depth + 1, f"option {item};")
        for value in enum.value:
            opts = self._option_items(value.options)
            suffix = f" [{', '.join(opts)}]" if opts else ""
            self.line(depth + 1, f"{value.name} = {value.number}{suffix};")
        for rng in enum.reserved_range:
            text = str(rng.start) if rng.end == rng.start else f"{rng.start} to {rng.end}"
            self.line(depth + 1, f"reserved {text};")
        for name in enum.reserved_name:
            self.line(depth + 1, f'reserved "{name}";')
        self.line(depth, "}")

    def extends(self, exts: list[descriptor_pb2.FieldDescriptorProto], depth: int) -> None:
        by_extendee: dict[str, list[descriptor_pb2.FieldDescriptorProto]] = {}
        for ext in exts:
            by_extendee.setdefault(ext.extendee, []).append(ext)
        for extendee, fields in by_extendee.items():
            self.line(depth, "")
            self.line(depth, f"extend {extendee} {{")
            for field in fields:
                self.field(field, depth + 1, in_oneof=False, msg=None)
            self.line(depth, "}")


def descriptor_to_proto(fd: descriptor_pb2.FileDescriptorProto,
                        deps: list[descriptor_pb2.FileDescriptorProto]) -> str:
    """Return ``.proto`` source text for ``fd``.

    ``deps`` are the descriptors of every file ``fd`` imports, so that options whose
    extensions they define print by name.  Raises ``TypeError`` from the descriptor pool
    when a dependency is missing.
    """
    return _Printer(fd, deps).print_file()
