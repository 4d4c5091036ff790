"""Server reflection that shows the edge's clients only what they may call.

Both ``grpc.reflection.v1`` and ``grpc.reflection.v1alpha`` are served by one servicer:
grpcio-reflection ships only v1alpha, whose messages are field for field those of v1, so v1
is served with the v1alpha message classes on v1's method path (grpcurl asks v1 first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha._async import ReflectionServicer

from pkg.server._public_view import public_pool

PUBLIC_VIEW_FOR = frozenset({"edge"})
"""mTLS identities whose callers get the public view (clients coming through the edge)."""

V1_SERVICE_NAME = "grpc.reflection.v1.ServerReflection"
"""The stable reflection service, served beside ``grpc.reflection.v1alpha``."""


class EdgeAwareReflection(reflection_pb2_grpc.ServerReflectionServicer):
    """``grpc.reflection.v1alpha.ServerReflection`` (and v1, ``add_reflection``) with two
    views, both built once here.

    Callers whose mTLS identity is in ``public_for`` (the edge, so every client of the
    public API) get the public view (``public_pool``): the public services and only the
    descriptors needed to describe and call them; asking for anything else (an internal
    service or message, by symbol, file name or extension) is answered NOT_FOUND. Other
    callers (the CLI, services, operators on the mesh) see everything in ``services``.
    Raises ``KeyError`` when a name in ``services`` is not in the default pool.
    """

    def __init__(
        self,
        services: Iterable[str],
        identity_of: Callable[[Any], str | None],
        *,
        public_for: frozenset[str] = PUBLIC_VIEW_FOR,
    ) -> None:
        names = list(services)
        self._identity_of = identity_of
        self._public_for = public_for
        self._full = ReflectionServicer(names)
        pool, public = public_pool(names)
        self._public = ReflectionServicer(public, pool=pool)

    async def ServerReflectionInfo(
        self, request_iterator: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        view = self._public if self._identity_of(context) in self._public_for else self._full
        async for response in view.ServerReflectionInfo(request_iterator, context):
            yield response


def add_reflection(servicer: EdgeAwareReflection, server: grpc.aio.Server) -> None:
    """Serve ``servicer`` on ``server`` as both ``grpc.reflection.v1alpha.ServerReflection``
    and ``grpc.reflection.v1.ServerReflection`` (same wire messages, gRPC's
    ``reflection.proto`` in both packages)."""
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                V1_SERVICE_NAME,
                {
                    "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                        servicer.ServerReflectionInfo,
                        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
                        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
                    ),
                },
            ),
        )
    )
