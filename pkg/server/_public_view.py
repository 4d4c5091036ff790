"""The public view of the contracts: a descriptor pool holding only what the edge's clients
may call (ADR 0022).

An RPC is public when the edge routes it: it has a ``google.api.http`` binding and an
``(agora.policy.v1.rule)`` that is not ``callers`` (the same test as
``pkg.edge.MethodContract.routed``). The view keeps the public RPCs, every message and enum
reachable from their request and response types through fields (map entries, nested and
well-known types included), the option extensions set on anything kept (``google.api.http``,
``buf.validate.field``, ``agora.policy.v1.rule``...) with their own closure, and the
``google.rpc`` error types a public RPC answers with. Everything else (internal services,
methods and the messages, enums, extensions and files only they use) is absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    FileDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from pkg.policy import Access, PolicyError, parse_rule

ERROR_TYPES: tuple[str, ...] = (
    status_pb2.Status.DESCRIPTOR.full_name,
    *(m.full_name for m in error_details_pb2.DESCRIPTOR.message_types_by_name.values()),
)
"""``google.rpc.Status`` and the standard detail messages (AIP-193): what a client needs to
read the errors of any public RPC."""


def is_public_method(method: MethodDescriptor) -> bool:
    """Whether the edge routes ``method``: a ``google.api.http`` binding and a valid rule
    that is not ``callers`` (internal RPCs and RPCs without a rule are not public)."""
    if not method.GetOptions().HasExtension(annotations_pb2.http):
        return False
    try:
        return parse_rule(method).access is not Access.CALLERS
    except PolicyError:
        return False


def is_public(service: ServiceDescriptor) -> bool:
    """Whether any RPC of ``service`` is public (``is_public_method``); services with none
    (``UserInternalService``) are internal."""
    return any(is_public_method(m) for m in service.methods)


class _Closure:
    """Full names of the symbols the public view keeps, and the files that declare them."""

    def __init__(self, source: descriptor_pool.DescriptorPool) -> None:
        self.source = source
        self.symbols: set[str] = set()
        self.methods: set[str] = set()
        self.files: dict[str, FileDescriptor] = {}

    def _keep(self, full_name: str, file: FileDescriptor) -> bool:
        if full_name in self.symbols:
            return False
        self.symbols.add(full_name)
        if file.name not in self.files:
            self.files[file.name] = file
            self.add_options(file.GetOptions())
        return True

    def add_service(self, service: ServiceDescriptor) -> None:
        public = [m for m in service.methods if is_public_method(m)]
        if not public or not self._keep(service.full_name, service.file):
            return
        self.add_options(service.GetOptions())
        for method in public:
            self.methods.add(method.full_name)
            self.add_options(method.GetOptions())
            self.add_message(method.input_type)
            self.add_message(method.output_type)

    def add_message(self, message: Descriptor) -> None:
        if not self._keep(message.full_name, message.file):
            return
        self.add_options(message.GetOptions())
        for oneof in message.oneofs:
            self.add_options(oneof.GetOptions())
        for field in message.fields:
            self._add_field_types(field)

    def _add_field_types(self, field: FieldDescriptor) -> None:
        self.add_options(field.GetOptions())
        if field.message_type is not None:
            self.add_message(field.message_type)
        if field.enum_type is not None:
            self.add_enum(field.enum_type)

    def add_enum(self, enum: EnumDescriptor) -> None:
        if not self._keep(enum.full_name, enum.file):
            return
        self.add_options(enum.GetOptions())
        for value in enum.values:
            self.add_options(value.GetOptions())

    def add_options(self, options: Message) -> None:
        """Keep the type of ``options`` when any is set (``google.protobuf.FileOptions``...)
        and every extension set in it, also inside message-valued options."""
        fields = options.ListFields()
        if fields:
            self._add_message_named(options.DESCRIPTOR.full_name)
        for field, value in fields:
            if field.is_extension:
                self.add_extension(field.full_name)
            for item in _message_values(field, value):
                self.add_options(item)

    def _add_message_named(self, full_name: str) -> None:
        try:
            message = self.source.FindMessageTypeByName(full_name)
        except KeyError:
            return
        self.add_message(message)

    def add_extension(self, full_name: str) -> None:
        """Keep the extension ``full_name`` of the source pool, its extendee and its type."""
        file = self.source.FindFileContainingSymbol(full_name)
        if not self._keep(full_name, file):
            return
        extension = self.source.FindExtensionByName(full_name)
        self.add_options(extension.GetOptions())
        if extension.containing_type is not None:
            self.add_message(extension.containing_type)
        if extension.message_type is not None:
            self.add_message(extension.message_type)
        if extension.enum_type is not None:
            self.add_enum(extension.enum_type)


def _message_values(field: FieldDescriptor, value: Any) -> list[Message]:
    """The messages a set field holds: none for scalars, the values of a map field."""
    entry = field.message_type
    if entry is None:
        return []
    if entry.GetOptions().map_entry:
        mapped = entry.fields_by_name["value"].message_type is not None
        return list(value.values()) if mapped else []
    return list(value) if field.is_repeated else [value]


def _pruned_messages(
    messages: Sequence[descriptor_pb2.DescriptorProto], scope: str, closure: _Closure
) -> list[descriptor_pb2.DescriptorProto]:
    kept: list[descriptor_pb2.DescriptorProto] = []
    for message in messages:
        name = f"{scope}.{message.name}".lstrip(".")
        nested = _pruned_messages(message.nested_type, name, closure)
        enums = [e for e in message.enum_type if f"{name}.{e.name}" in closure.symbols]
        extensions = [x for x in message.extension if f"{name}.{x.name}" in closure.symbols]
        if name in closure.symbols:
            copy = descriptor_pb2.DescriptorProto()
            copy.CopyFrom(message)
        elif nested or enums or extensions:
            copy = descriptor_pb2.DescriptorProto(name=message.name)
        else:
            continue
        _replace(copy.nested_type, nested)
        _replace(copy.enum_type, enums)
        _replace(copy.extension, extensions)
        kept.append(copy)
    return kept


def _replace(field: Any, items: Iterable[Any]) -> None:
    kept = list(items)
    del field[:]
    field.extend(kept)


def _pruned_file(file: FileDescriptor, closure: _Closure) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)
    package = proto.package
    _replace(proto.message_type, _pruned_messages(proto.message_type, package, closure))
    _replace(
        proto.enum_type,
        [e for e in proto.enum_type if f"{package}.{e.name}".lstrip(".") in closure.symbols],
    )
    _replace(
        proto.extension,
        [x for x in proto.extension if f"{package}.{x.name}".lstrip(".") in closure.symbols],
    )
    services = []
    for service in proto.service:
        full_name = f"{package}.{service.name}".lstrip(".")
        if full_name in closure.symbols:
            methods = [m for m in service.method if f"{full_name}.{m.name}" in closure.methods]
            _replace(service.method, methods)
            services.append(service)
    _replace(proto.service, services)
    renumbered = {
        old: new
        for new, old in enumerate(
            i for i, name in enumerate(proto.dependency) if name in closure.files
        )
    }
    dependencies = [n for n in proto.dependency if n in closure.files]
    public = [renumbered[i] for i in proto.public_dependency if i in renumbered]
    weak = [renumbered[i] for i in proto.weak_dependency if i in renumbered]
    _replace(proto.dependency, dependencies)
    _replace(proto.public_dependency, public)
    _replace(proto.weak_dependency, weak)
    return proto


def _files_in_order(files: Iterable[FileDescriptor]) -> list[FileDescriptor]:
    ordered: list[FileDescriptor] = []
    seen: set[str] = set()

    def visit(file: FileDescriptor) -> None:
        if file.name in seen:
            return
        seen.add(file.name)
        for dependency in file.dependencies:
            visit(dependency)
        ordered.append(file)

    for file in files:
        visit(file)
    return ordered


def public_pool(
    services: Iterable[str],
    *,
    source: descriptor_pool.DescriptorPool | None = None,
    error_types: Iterable[str] = ERROR_TYPES,
) -> tuple[descriptor_pool.DescriptorPool, list[str]]:
    """The public view of ``services`` (full names found in ``source``, the default pool
    when ``None``): a new pool, and the names of the public services among them, sorted.

    The pool's files keep their names, in dependency order; each holds only the kept
    services, methods, messages, enums and extensions (a message that is not kept but
    encloses a kept nested type stays as an empty shell, so nested names resolve), and
    imports only kept files. ``error_types`` (message full names) are kept as roots too.
    Raises ``KeyError`` when a service or error type is not in ``source``. Built once per
    server at start-up; requests only look it up.
    """
    source = source or descriptor_pool.Default()
    found = [source.FindServiceByName(name) for name in services]
    closure = _Closure(source)
    for service in found:
        closure.add_service(service)
    for name in error_types:
        closure.add_message(source.FindMessageTypeByName(name))
    pool = descriptor_pool.DescriptorPool()
    for file in _files_in_order(closure.files.values()):
        if file.name in closure.files:
            pool.Add(_pruned_file(file, closure))
    return pool, sorted(s.full_name for s in found if s.full_name in closure.symbols)
