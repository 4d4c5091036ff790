"""Server interceptors, outermost first: request context, errors, auth, validation.

Each interceptor wraps a method's behaviour once (cached per method name) so the per-call
cost is one extra coroutine frame, and supports unary-unary and unary-stream RPCs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc
import protovalidate
from google.protobuf.message import Message

from buf.validate import validate_pb2
from pkg import errors
from pkg.obs import current, get_logger, new_request_id, parse_traceparent, request_context
from pkg.policy import Access, AccessRule
from pkg.server._principal import TokenVerifier, bind_principal, unbind_principal
from pkg.server._status import abort_with, retry_after_metadata, to_status

_log = get_logger("agora.rpc")


def _metadata(context: grpc.aio.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}


class _WrappingInterceptor(grpc.aio.ServerInterceptor):
    """Base: ``around(method, request, context, call)`` runs around each unary call."""

    def __init__(self) -> None:
        self._cache: dict[str, grpc.RpcMethodHandler] = {}

    async def around(self, method: str, request: Message, context: grpc.aio.ServicerContext,
                     call: Callable[[], Awaitable[Any]]) -> Any:
        return await call()

    async def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        method = details.method
        cached = self._cache.get(method)
        if cached is not None:
            return cached
        handler = await continuation(details)
        if handler is None or handler.request_streaming:
            return handler
        wrapped = self._wrap(handler, method)
        self._cache[method] = wrapped
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        if handler.unary_unary is not None:
            inner = handler.unary_unary

            async def unary(request: Message, context: grpc.aio.ServicerContext) -> Any:
                return await self.around(method, request, context,
                                         lambda: inner(request, context))

            return grpc.unary_unary_rpc_method_handler(
                unary, request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        inner_stream = handler.unary_stream

        async def stream(request: Message, context: grpc.aio.ServicerContext) -> None:
            async def drain() -> None:
                produced = inner_stream(request, context)
                if hasattr(produced, "__aiter__"):
                    async for item in produced:
                        await context.write(item)
                else:
                    await produced

            await self.around(method, request, context, drain)

        return grpc.unary_stream_rpc_method_handler(
            stream, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)


class RequestContextInterceptor(_WrappingInterceptor):
    """Binds request id, trace ids and caller for logging, and logs each call's outcome.

    The request id comes from ``x-request-id`` metadata (the edge sets it) or is new; it
    is echoed back in the ``x-request-id`` trailing metadata.  Nothing is sent ahead of the
    reply, so an error is a trailers-only response whose metadata (``retry-after``) the
    edge can pass on to HTTP clients as headers.
    """

    def __init__(self, identity_of: Callable[[grpc.aio.ServicerContext], str | None]) -> None:
        super().__init__()
        self._identity_of = identity_of

    async def around(self, method, request, context, call):  # type: ignore[no-untyped-def]
        md = _metadata(context)
        request_id = md.get("x-request-id") or new_request_id()
        trace_id, span_id = parse_traceparent(md.get("traceparent"))
        caller = self._identity_of(context) or ""
        started = time.perf_counter()
        with request_context(rpc=method, request_id=request_id, trace_id=trace_id,
                             span_id=span_id, caller=caller):
            context.set_trailing_metadata((("x-request-id", request_id),))
            try:
                result = await call()
            finally:
                code = context.code() or grpc.StatusCode.OK
                _log.info("rpc finished", extra={
                    "code": getattr(code, "name", str(code)),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3)})
            return result


class ErrorInterceptor(_WrappingInterceptor):
    """Turns ``DomainError`` into its status; anything unexpected into INTERNAL.

    Unexpected exceptions are logged with their traceback; the caller sees only
    ``internal error`` and the request id, never the traceback.
    """

    async def around(self, method, request, context, call):  # type: ignore[no-untyped-def]
        try:
            return await call()
        except errors.DomainError as exc:
            await abort_with(context, to_status(exc), (
                ("x-request-id", current().request_id), *retry_after_metadata(exc)))
        except grpc.aio.AbortError:
            raise
        except Exception:
            _log.exception("unhandled error")
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")


class AuthInterceptor(_WrappingInterceptor):
    """Authenticates the bearer token and authorises the call from the method's rule.

    ``rules`` maps ``/pkg.Service/Method`` to its ``AccessRule`` (``pkg.policy``); a
    method with no rule is refused (PERMISSION_DENIED), as are internal RPCs whose
    mTLS caller identity is not listed and callers without a required role.  Methods of
    infrastructure services (health, reflection) named in ``open_services`` are let through.
    """

    def __init__(self, rules: Mapping[str, AccessRule], verifier: TokenVerifier,
                 identity_of: Callable[[grpc.aio.ServicerContext], str | None],
                 open_services: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self._rules = rules
        self._verifier = verifier
        self._identity_of = identity_of
        self._open = open_services

    async def around(self, method, request, context, call):  # type: ignore[no-untyped-def]
        rule = self._rules.get(method)
        if rule is None:
            if method.split("/")[1] in self._open:
                return await call()
            raise errors.PermissionDenied(f"{method} has no access rule",
                                          reason="NO_ACCESS_RULE")
        if rule.access is Access.CALLERS:
            caller = self._identity_of(context)
            if caller not in rule.values:
                raise errors.PermissionDenied(
                    f"caller {caller or 'unknown'} may not call {method}",
                    reason="CALLER_NOT_ALLOWED", metadata={"caller": caller or ""})
            return await call()
        principal = None
        header = _metadata(context).get("authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise errors.Unauthenticated("authorization must be 'Bearer <token>'",
                                             reason="TOKEN_MALFORMED")
            if rule.access is not Access.PUBLIC:
                principal = await self._verifier.verify(token.strip())
        elif rule.access is not Access.PUBLIC:
            raise errors.Unauthenticated("an access token is required", reason="TOKEN_MISSING")
        if rule.access is Access.ROLES and principal is not None \
                and not (principal.roles & rule.values):
            raise errors.PermissionDenied(
                f"{method} needs one of the roles {sorted(rule.values)}",
                reason="ROLE_REQUIRED")
        bound = bind_principal(principal)
        try:
            with request_context(subject=principal.subject if principal else ""):
                return await call()
        finally:
            unbind_principal(bound)


def _field_path(violation: validate_pb2.Violation) -> str:
    parts: list[str] = []
    for element in violation.field.elements:
        kind = element.WhichOneof("subscript")
        if kind == "index":
            parts.append(f"{element.field_name}[{element.index}]")
        elif kind is not None:
            parts.append(f"{element.field_name}[{getattr(element, kind)!r}]")
        else:
            parts.append(element.field_name)
    return ".".join(parts)


class ValidationInterceptor(_WrappingInterceptor):
    """Validates each request against its ``buf.validate`` rules with protovalidate.

    Violations become INVALID_ARGUMENT with a ``google.rpc.BadRequest`` naming each field
    (``email``, ``user.display_name``, ``roles[0]``) and the rule broken.
    """

    def __init__(self) -> None:
        super().__init__()
        self._validator = protovalidate.Validator()

    async def around(self, method, request, context, call):  # type: ignore[no-untyped-def]
        try:
            self._validator.validate(request)
        except protovalidate.ValidationError as exc:
            violations = [errors.FieldViolation(
                field=_field_path(v.proto) or v.proto.rule_id,
                description=v.proto.message, reason=v.proto.rule_id) for v in exc.violations]
            summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
            raise errors.InvalidArgument(f"invalid request: {summary}",
                                         violations=violations,
                                         reason="INVALID_REQUEST") from exc
        return await call()
