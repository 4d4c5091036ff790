"""Read services, HTTP rules and access policy from a descriptor set (``buf build`` output)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

from agora.policy.v1 import policy_pb2
from pkg.policy import Access, AccessRule, PolicyError, parse_rule

DEFAULT_TIMEOUT_MS = 5000


class EdgeConfigError(ValueError):
    """The contracts or the arguments cannot produce a safe edge configuration.

    Raised for a malformed ``(agora.policy.v1.rule)`` (zero or several access kinds), an
    internal RPC (``callers``) that has a ``google.api.http`` rule, a routed service outside
    ``agora.<domain>.v1``, or a routed service with no upstream endpoints.
    """


@dataclass(frozen=True)
class HttpBinding:
    """One ``google.api.http`` binding: verb (``GET``...), path template, body field."""

    verb: str
    template: str
    body: str = ""


@dataclass(frozen=True)
class MethodContract:
    """One RPC: its gRPC path ``/pkg.Service/Method``, HTTP bindings, rule and edge timeout.

    ``rule`` is ``None`` when the RPC has no ``(agora.policy.v1.rule)``; ``timeout_ms`` is
    the ``(agora.policy.v1.route).timeout_ms`` in milliseconds, or ``None`` when unset;
    ``requests_per_second`` and ``burst`` its token-bucket rate limit (0: none).
    """

    service: str
    name: str
    domain: str
    bindings: tuple[HttpBinding, ...]
    rule: AccessRule | None
    timeout_ms: int | None
    client_streaming: bool = False
    server_streaming: bool = False
    requests_per_second: int = 0
    burst: int = 0

    @property
    def grpc_path(self) -> str:
        """The HTTP/2 ``:path`` of the RPC, e.g. ``/agora.auth.v1.AuthService/Login``."""
        return f"/{self.service}/{self.name}"

    @property
    def routed(self) -> bool:
        """Whether the edge exposes the RPC: it has a rule that is not internal and a binding."""
        rule = self.rule
        return bool(self.bindings) and rule is not None and rule.access is not Access.CALLERS

    @property
    def requires_jwt(self) -> bool:
        """Whether the edge demands a valid access token (``authenticated`` or ``roles``)."""
        return self.rule is not None and self.rule.access in (Access.AUTHENTICATED, Access.ROLES)

    @property
    def effective_timeout_ms(self) -> int:
        """Edge timeout in ms: the contract's, else 5000 (0, i.e. none, for streaming RPCs)."""
        if self.timeout_ms:
            return self.timeout_ms
        streaming = self.client_streaming or self.server_streaming
        return 0 if streaming else DEFAULT_TIMEOUT_MS


@dataclass(frozen=True)
class Contracts:
    """Every RPC of a descriptor set, plus its serialized bytes (for the transcoder)."""

    methods: tuple[MethodContract, ...]
    descriptor_set: bytes

    @property
    def transcoded_services(self) -> tuple[str, ...]:
        """Full names of services with at least one routed RPC, sorted."""
        return tuple(sorted({m.service for m in self.methods if m.routed}))

    def method(self, grpc_path: str) -> MethodContract:
        """The RPC with ``grpc_path``; ``KeyError`` when there is none."""
        return {m.grpc_path: m for m in self.methods}[grpc_path]


def _bindings(rule: http_pb2.HttpRule) -> list[HttpBinding]:
    kind = rule.WhichOneof("pattern")
    found: list[HttpBinding] = []
    if kind == "custom":
        found.append(HttpBinding(rule.custom.kind.upper(), rule.custom.path, rule.body))
    elif kind is not None:
        found.append(HttpBinding(kind.upper(), getattr(rule, kind), rule.body))
    for extra in rule.additional_bindings:
        found.extend(_bindings(extra))
    return found


def _domain(package: str) -> str:
    parts = package.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "agora" else ""


def _method(method: descriptor.MethodDescriptor, package: str) -> MethodContract:
    options, path = method.GetOptions(), f"/{method.containing_service.full_name}/{method.name}"
    rule = None
    if options.HasExtension(policy_pb2.rule):
        try:
            rule = parse_rule(method)
        except PolicyError as error:
            raise EdgeConfigError(str(error)) from error
    bindings: list[HttpBinding] = []
    if options.HasExtension(annotations_pb2.http):
        bindings = _bindings(options.Extensions[annotations_pb2.http])
    if rule is not None and rule.access is Access.CALLERS and bindings:
        raise EdgeConfigError(f"{path} is internal (callers) but has a google.api.http rule")
    route = options.Extensions[policy_pb2.route]
    contract = MethodContract(
        service=method.containing_service.full_name,
        name=method.name,
        domain=_domain(package),
        bindings=tuple(bindings),
        rule=rule,
        timeout_ms=route.timeout_ms or None,
        client_streaming=method.client_streaming,
        server_streaming=method.server_streaming,
        requests_per_second=route.requests_per_second,
        burst=route.burst or route.requests_per_second,
    )
    if contract.routed and not contract.domain:
        raise EdgeConfigError(f"{path} has an HTTP route but is not in a package agora.<domain>.v1")
    return contract


def load_contracts(descriptor_set: Path | bytes) -> Contracts:
    """Parse a ``FileDescriptorSet`` (path or bytes) into every RPC's edge-relevant facts.

    The set must include imports (``buf build`` does). Raises ``EdgeConfigError`` for a
    malformed policy (see its docstring) and ``google.protobuf.message.DecodeError`` /
    ``TypeError`` when the bytes are not a descriptor set.
    """
    raw = descriptor_set.read_bytes() if isinstance(descriptor_set, Path) else descriptor_set
    files = descriptor_pb2.FileDescriptorSet.FromString(raw)
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    methods = [
        _method(method, file.package)
        for file in files.file
        for service in pool.FindFileByName(file.name).services_by_name.values()
        for method in service.methods
    ]
    return Contracts(methods=tuple(methods), descriptor_set=raw)
