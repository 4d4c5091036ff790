"""Which requests are native gRPC: one definition for every part of the edge.

Envoy treats a request as gRPC when its ``content-type`` is exactly ``application/grpc`` or
starts with ``application/grpc+`` (``Grpc::Common::hasGrpcContentType``); everything else,
``application/grpc;charset=utf-8`` and ``Application/gRPC`` included, is transcoded as
HTTP/JSON by ``grpc_json_transcoder`` and routed by ``RouteMatch.grpc`` as not gRPC. The guard
Lua filter, the CORS catch-all route and the local-reply mappers all classify with the values
below, so no spelling is native gRPC to one of them and HTTP/JSON to another.
"""

from __future__ import annotations

GRPC_CONTENT_TYPE = "application/grpc"
GRPC_CONTENT_TYPE_REGEX = r"application/grpc(\+.*)?"
"""RE2, matched against the whole ``content-type`` value (Envoy ``safe_regex`` semantics)."""


def is_native_grpc(content_type: str | None) -> bool:
    """Whether Envoy treats a request with this ``content-type`` as native gRPC."""
    if content_type is None:
        return False
    return content_type == GRPC_CONTENT_TYPE or content_type.startswith(GRPC_CONTENT_TYPE + "+")
