"""Server reflection that shows the edge's clients only what they may call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import grpc
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor, ServiceDescriptor
from grpc_reflection.v1alpha import reflection_pb2_grpc
from grpc_reflection.v1alpha._async import ReflectionServicer

PUBLIC_VIEW_FOR = frozenset({"edge"})
"""mTLS identities whose callers get the public view (clients coming through the edge)."""


def is_public(service: ServiceDescriptor) -> bool:
    """Whether any RPC of ``service`` has a ``google.api.http`` binding (the edge routes
    it); services without one (``UserInternalService``) are internal."""
    return any(m.GetOptions().HasExtension(annotations_pb2.http) for m in service.methods)


def _files_in_order(roots: Iterable[FileDescriptor]) -> list[FileDescriptor]:
    ordered: list[FileDescriptor] = []
    seen: set[str] = set()

    def visit(file: FileDescriptor) -> None:
        if file.name in seen:
            return
        seen.add(file.name)
        for dependency in file.dependencies:
            visit(dependency)
        ordered.append(file)

    for root in roots:
        visit(root)
    return ordered


def public_pool(services: Iterable[str]) -> tuple[descriptor_pool.DescriptorPool, list[str]]:
    """A descriptor pool holding ``services``' files (from the default pool) with every
    internal service removed from them, and the public service names.

    Messages, enums and extensions stay: a public RPC may use a message declared beside an
    internal service.
    """
    default = descriptor_pool.Default()
    found = [default.FindServiceByName(name) for name in services]
    internal = {s.full_name for s in found if not is_public(s)}
    pool = descriptor_pool.DescriptorPool()
    for file in _files_in_order(s.file for s in found):
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        kept = [s for s in proto.service if f"{proto.package}.{s.name}".lstrip(".")
                not in internal]
        del proto.service[:]
        proto.service.extend(kept)
        pool.Add(proto)
    return pool, [s.full_name for s in found if s.full_name not in internal]


class EdgeAwareReflection(reflection_pb2_grpc.ServerReflectionServicer):
    """``grpc.reflection.v1alpha.ServerReflection`` with two views.

    Callers whose mTLS identity is in ``public_for`` (the edge, so every client of the
    public API) see only public services (``is_public``) and descriptors with the internal
    services removed; other callers (the CLI, services, operators on the mesh) see
    everything in ``services``.
    """

    def __init__(self, services: Iterable[str], identity_of: Callable[[Any], str | None], *,
                 public_for: frozenset[str] = PUBLIC_VIEW_FOR) -> None:
        names = list(services)
        self._identity_of = identity_of
        self._public_for = public_for
        self._full = ReflectionServicer(names)
        pool, public = public_pool(names)
        self._public = ReflectionServicer(public, pool=pool)

    async def ServerReflectionInfo(self, request_iterator: Any,
                                   context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        view = self._public if self._identity_of(context) in self._public_for else self._full
        async for response in view.ServerReflectionInfo(request_iterator, context):
            yield response
