"""Access rules read from the contracts' ``(agora.policy.v1.rule)`` method option.

The rule of every RPC is parsed once at start-up into an ``AccessRule``; an RPC without a
valid rule has no entry, and the authorisation interceptor refuses it (nothing is open by
accident).  The edge's JWT requirements are derived from the same option (``pkg.edge``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from google.protobuf import descriptor, descriptor_pool

from agora.policy.v1 import policy_pb2


class Access(Enum):
    """Who may call: anyone, any token holder, token holders with a role, or services."""

    PUBLIC = "public"
    AUTHENTICATED = "authenticated"
    ROLES = "roles"
    CALLERS = "callers"


class PolicyError(ValueError):
    """A method's rule is missing or sets zero or several kinds of access."""


@dataclass(frozen=True)
class AccessRule:
    """The parsed rule of one RPC; ``values`` holds the roles or caller names."""

    method: str
    access: Access
    values: frozenset[str] = frozenset()


def parse_rule(method: descriptor.MethodDescriptor) -> AccessRule:
    """Parse ``method``'s rule; raise ``PolicyError`` when it is missing or ambiguous."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    options = method.GetOptions()
    if not options.HasExtension(policy_pb2.rule):
        raise PolicyError(f"{path} has no (agora.policy.v1.rule)")
    rule = options.Extensions[policy_pb2.rule]
    kinds = [
        (Access.PUBLIC, rule.public),
        (Access.AUTHENTICATED, rule.authenticated),
        (Access.ROLES, bool(rule.roles)),
        (Access.CALLERS, bool(rule.callers)),
    ]
    chosen = [kind for kind, present in kinds if present]
    if len(chosen) != 1:
        raise PolicyError(
            f"{path} must set exactly one of public, authenticated, roles, "
            f"callers; it sets {[k.value for k in chosen]}"
        )
    values = rule.roles if chosen[0] is Access.ROLES else rule.callers
    return AccessRule(method=path, access=chosen[0], values=frozenset(values))


def rules_for_services(
    service_names: Iterable[str], pool: descriptor_pool.DescriptorPool | None = None
) -> dict[str, AccessRule]:
    """Map ``/pkg.Service/Method`` to its rule for every method of the named services.

    Raises ``PolicyError`` for the first method whose rule is missing or malformed, and
    ``KeyError`` for an unknown service name, so a server refuses to start rather than
    serve an RPC with no policy.
    """
    pool = pool or descriptor_pool.Default()
    rules: dict[str, AccessRule] = {}
    for name in service_names:
        for method in pool.FindServiceByName(name).methods:
            rule = parse_rule(method)
            rules[rule.method] = rule
    return rules
