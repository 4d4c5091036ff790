"""Server interceptors, outermost first: request context, errors, auth, validation.

Each interceptor wraps a method's behaviour once (cached per method name) so the per-call
cost is one extra coroutine frame, for all four RPC shapes: ``around`` runs before the
handler (and around all of it) for unary and streaming requests alike, and ``incoming``
sees each message of a request stream as the handler reads it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

import grpc
from google.protobuf.message import Message

from agora.errors.v1.reasons import SharedReason
from buf.validate import validate_pb2
from pkg import errors
from pkg.obs import current, get_logger, new_request_id, parse_traceparent, request_context
from pkg.policy import Access, AccessRule
from pkg.principal import Principal, TokenVerifier, bind_principal, unbind_principal
from pkg.server._requests import decode, nul_violations
from pkg.server._status import abort_with, retry_after_metadata, to_status
from pkg.validation import FastPath

_log = get_logger("agora.rpc")
Call = Callable[[Any], Awaitable[Any]]


def _header(context: grpc.aio.ServicerContext, name: str) -> str:
    # One key's text value (the last one wins), without building the whole mapping.
    found = ""
    for key, value in context.invocation_metadata() or ():
        if key == name and isinstance(value, str):
            found = value
    return found


async def _write_all(produced: Any, context: grpc.aio.ServicerContext) -> None:
    if hasattr(produced, "__aiter__"):
        async for item in produced:
            await context.write(item)
    else:
        await produced


class _WrappingInterceptor(grpc.aio.ServerInterceptor):
    """Base: ``around`` runs around each call, ``incoming`` over each streamed request.

    ``around(method, request, context, call)`` gets the request message (``None`` for a
    request stream) and must ``await call(request)`` (possibly with a replaced request) to
    run the rest of the chain.  Subclasses may override ``request_deserializer`` to take
    the wire bytes themselves.
    """

    def __init__(self) -> None:
        self._cache: dict[str, grpc.RpcMethodHandler] = {}

    async def around(
        self, method: str, request: Any, context: grpc.aio.ServicerContext, call: Call
    ) -> Any:
        return await call(request)

    def incoming(
        self, method: str, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        return requests

    def request_deserializer(self, method: str, handler: grpc.RpcMethodHandler) -> Any:
        return handler.request_deserializer

    async def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        method = details.method
        cached = self._cache.get(method)
        if cached is not None:
            return cached
        handler = await continuation(details)
        if handler is None:
            return handler
        wrapped = self._wrap(handler, method)
        self._cache[method] = wrapped
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        options = {
            "request_deserializer": self.request_deserializer(method, handler),
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            unary_unary = handler.unary_unary

            async def uu(request: Any, context: grpc.aio.ServicerContext) -> Any:
                return await self.around(
                    method, request, context, lambda r: unary_unary(r, context)
                )

            return grpc.unary_unary_rpc_method_handler(uu, **options)
        if handler.unary_stream is not None:
            unary_stream = handler.unary_stream

            async def us(request: Any, context: grpc.aio.ServicerContext) -> None:
                await self.around(
                    method,
                    request,
                    context,
                    lambda r: _write_all(unary_stream(r, context), context),
                )

            return grpc.unary_stream_rpc_method_handler(us, **options)
        if handler.stream_unary is not None:
            stream_unary = handler.stream_unary

            async def su(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
                return await self.around(
                    method,
                    None,
                    context,
                    lambda _: stream_unary(self.incoming(method, requests, context), context),
                )

            return grpc.stream_unary_rpc_method_handler(su, **options)
        stream_stream = handler.stream_stream

        async def ss(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> None:
            await self.around(
                method,
                None,
                context,
                lambda _: _write_all(
                    stream_stream(self.incoming(method, requests, context), context), context
                ),
            )

        return grpc.stream_stream_rpc_method_handler(ss, **options)


class RequestContextInterceptor(_WrappingInterceptor):
    """Binds request id, trace ids and caller for logging, and logs each call's outcome.

    The request id comes from ``x-request-id`` metadata (the edge sets it) or is new; it
    is echoed back in the ``x-request-id`` trailing metadata.  The trace comes from the
    W3C ``traceparent`` header; without one a new trace starts, whose id is the new
    request id when there is none either (one random draw), and there is no parent span.
    The call's deadline (``context.time_remaining()``) is recorded too, so
    ``pkg.obs.remaining()`` bounds database work and outgoing calls (``pkg.mtls`` channels
    shorten their timeouts to it).  Nothing is sent ahead of the reply, so an error is a
    trailers-only response whose metadata (``retry-after``) the edge can pass on to HTTP
    clients as headers.  One access log line per call (``rpc finished`` with ``code`` and
    ``duration_ms``), except for the methods of ``quiet_services`` (health checks, which
    balancers send every second).
    """

    def __init__(
        self,
        identity_of: Callable[[grpc.aio.ServicerContext], str | None],
        quiet_services: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self._identity_of = identity_of
        self._quiet = tuple(f"/{name}/" for name in quiet_services)

    async def around(self, method, request, context, call):  # type: ignore[no-untyped-def]
        request_id = _header(context, "x-request-id")
        traced = parse_traceparent(_header(context, "traceparent"))
        if traced is None:
            trace_id, span_id = new_request_id(), ""
            request_id = request_id or trace_id
        else:
            trace_id, span_id = traced
            request_id = request_id or new_request_id()
        caller = self._identity_of(context) or ""
        started = time.perf_counter()
        left = context.time_remaining()
        deadline = None if left is None else time.monotonic() + left
        with request_context(
            rpc=method,
            request_id=request_id,
            trace_id=trace_id,
            span_id=span_id,
            caller=caller,
            deadline=deadline,
        ):
            context.set_trailing_metadata((("x-request-id", request_id),))
            try:
                result = await call(request)
            finally:
                if not method.startswith(self._quiet):
                    code = context.code() or grpc.StatusCode.OK
                    _log.info(
                        "rpc finished",
                        extra={
                            "code": getattr(code, "name", str(code)),
                            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        },
                    )
            return result


class ErrorInterceptor(_WrappingInterceptor):
    """Turns ``DomainError`` into its status; anything unexpected into INTERNAL.

    ``Unavailable`` (a dependency down or too slow) is logged once as a warning with its
    reason and the class of its cause, without traceback.  Unexpected exceptions are
    logged once with their traceback; the caller sees only ``internal error`` and the
    request id, never the traceback.
    """

    async def around(self, method, request, context, call):  # type: ignore[no-untyped-def]
        try:
            return await call(request)
        except errors.DomainError as exc:
            if isinstance(exc, errors.Unavailable):
                cause = exc.__cause__
                _log.warning(
                    "dependency unavailable",
                    extra={"reason": exc.reason, "error": type(cause).__name__ if cause else ""},
                )
            await abort_with(
                context,
                to_status(exc),
                (("x-request-id", current().request_id), *retry_after_metadata(exc)),
            )
        except (grpc.aio.AbortError, asyncio.CancelledError):
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
    While the handler runs, the verified principal and the token it came from are bound
    (``pkg.principal.current_principal``, ``current_access_token``).  A public method's
    token is optional: when one is sent and verifies, its principal is bound (so a public
    read can show an admin more); when it does not verify, the call goes on anonymously,
    as if none had been sent (a stale token never locks a client out of public RPCs).
    """

    def __init__(
        self,
        rules: Mapping[str, AccessRule],
        verifier: TokenVerifier,
        identity_of: Callable[[grpc.aio.ServicerContext], str | None],
        open_services: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self._rules = rules
        self._verifier = verifier
        self._identity_of = identity_of
        self._open = open_services

    async def _principal(self, token: str, access: Access) -> Principal | None:
        if access is not Access.PUBLIC:
            return await self._verifier.verify(token)
        try:
            return await self._verifier.verify(token)
        except errors.Unauthenticated:
            return None

    async def around(self, method, request, context, call):  # type: ignore[no-untyped-def]
        rule = self._rules.get(method)
        if rule is None:
            if method.split("/")[1] in self._open:
                return await call(request)
            raise errors.PermissionDenied(
                f"{method} has no access rule", reason=SharedReason.NO_ACCESS_RULE
            )
        if rule.access is Access.CALLERS:
            caller = self._identity_of(context)
            if caller not in rule.values:
                raise errors.PermissionDenied(
                    f"caller {caller or 'unknown'} may not call {method}",
                    reason=SharedReason.CALLER_NOT_ALLOWED,
                    metadata={"caller": caller or ""},
                )
            return await call(request)
        principal, token = None, ""
        header = _header(context, "authorization")
        if header:
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise errors.Unauthenticated(
                    "authorization must be 'Bearer <token>'", reason=SharedReason.TOKEN_MALFORMED
                )
            principal = await self._principal(token, rule.access)
        elif rule.access is not Access.PUBLIC:
            raise errors.Unauthenticated(
                "an access token is required", reason=SharedReason.TOKEN_MISSING
            )
        if (
            rule.access is Access.ROLES
            and principal is not None
            and not (principal.roles & rule.values)
        ):
            raise errors.PermissionDenied(
                f"{method} needs one of the roles {sorted(rule.values)}",
                reason=SharedReason.ROLE_REQUIRED,
            )
        bound = bind_principal(principal, token)
        try:
            with request_context(subject=principal.subject if principal else ""):
                return await call(request)
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


MAX_VIOLATIONS = 20
"""Field violations reported per refused request at most (the first ones, in
protovalidate's order), so a request with a huge repeated field costs no more to refuse,
and its error fits gRPC's trailing metadata."""


class ValidationInterceptor(_WrappingInterceptor):
    """Decodes each request message and validates it before the handler sees it.

    Innermost interceptor: it takes the wire bytes itself (so undecodable bytes are
    INVALID_ARGUMENT with reason ``MALFORMED_REQUEST``, not UNKNOWN), refuses NUL
    characters in any string field (``STRING_CONTAINS_NUL``), and checks the
    ``buf.validate`` rules with ``pkg.validation.FastPath`` (compiled checks that give
    protovalidate's verdicts and violations; protovalidate itself for rules they do not
    translate).  Violations (the first ``MAX_VIOLATIONS``) become INVALID_ARGUMENT with a
    ``google.rpc.BadRequest`` naming each field (``email``, ``user.display_name``,
    ``roles[0]``) and the rule broken.  Every message of a request
    stream is checked as the handler reads it.  The fast checks of ``request_types`` (the
    request messages of the served RPCs) are compiled at construction, not on first use.
    """

    def __init__(self, request_types: Iterable[type[Message]] = ()) -> None:
        super().__init__()
        self._fast = FastPath()
        self._fast.prepare(request_types)
        self._decoders: dict[str, Any] = {}

    def request_deserializer(self, method: str, handler: grpc.RpcMethodHandler) -> Any:
        self._decoders[method] = handler.request_deserializer
        return None

    def _check(self, method: str, raw: Any) -> Any:
        request = decode(self._decoders.get(method), raw)
        if not isinstance(request, Message) or self._fast.is_valid(request):
            return request
        violations = nul_violations(request)[:MAX_VIOLATIONS]
        if not violations:
            violations = [
                errors.FieldViolation(
                    field=_field_path(v) or v.rule_id, description=v.message, reason=v.rule_id
                )
                for v in self._fast.violations(request, limit=MAX_VIOLATIONS)
            ]
        if violations:
            summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
            raise errors.InvalidArgument(
                f"invalid request: {summary}",
                violations=violations,
                reason=SharedReason.INVALID_REQUEST,
            )
        return request

    async def around(self, method, request, context, call):  # type: ignore[no-untyped-def]
        return await call(None if request is None else self._check(method, request))

    async def incoming(self, method, requests, context):  # type: ignore[no-untyped-def]
        async for raw in requests:
            yield self._check(method, raw)
