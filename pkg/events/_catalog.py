"""Which message types are events: the rule a producer's unit of work enforces at commit.

An event type is a message the contracts declare (``gen/agora.binpb``, the descriptor set
``buf build`` writes from ``api/``) that

* sits at the top level of a domain package ``agora.<domain>.v<N>``, a domain package being
  one that declares a gRPC service (``agora.errors.v1``, ``agora.policy.v1`` and
  ``agora.events.v1`` declare none: they hold shared types, not a domain's events);
* is no RPC's request or response (``GetUserRequest``, the resource ``User`` returned by
  ``GetUser``);
* is named in the past tense (cosmicpython's rule for events: ``UserCreated``,
  ``PaymentFailed``): its last CamelCase word ends in ``ed`` (not ``eed``) or is one of
  ``IRREGULAR``.

So a contract that adds ``message UserRolesChanged`` to ``agora/user/v1/*.proto`` has
declared an event; a producer that commits any other payload (a resource, a request, a
wrapper type, a message of no contract) gets ``TypeError`` and nothing is committed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from google.protobuf import descriptor_pb2
from google.protobuf.message import Message

IRREGULAR = frozenset(
    {
        "Begun",
        "Bought",
        "Built",
        "Cut",
        "Done",
        "Given",
        "Held",
        "Kept",
        "Left",
        "Lost",
        "Made",
        "Met",
        "Paid",
        "Put",
        "Read",
        "Sent",
        "Set",
        "Sold",
        "Spent",
        "Taken",
        "Undone",
        "Withdrawn",
        "Won",
        "Written",
        "Agreed",
        "Freed",
        "Guaranteed",
    }
)
"""Past participles that do not end in ``ed`` (or end in ``eed``, as ``Need`` and ``Feed``
do without being one) and may end an event's name."""
_DOMAIN_PACKAGE = re.compile(r"agora\.[a-z][a-z0-9_]*\.v[0-9]+")
_LAST_WORD = re.compile(r"[A-Z][a-z0-9]*$")


def past_tense(name: str) -> bool:
    """Whether the CamelCase ``name``'s last word is a past participle (``ed``-ending or
    in ``IRREGULAR``): ``UserDisabled`` yes, ``User`` and ``DisableUser`` no."""
    match = _LAST_WORD.search(name)
    if match is None:
        return False
    word = match.group(0)
    return (word.endswith("ed") and not word.endswith("eed") and len(word) > 2) or (
        word in IRREGULAR
    )


class EventTypes:
    """A set of full message names a producer may commit as events.

    ``EventTypes.from_descriptor_set(files)`` applies the module's rule to a
    ``FileDescriptorSet``; ``contract_events()`` is that for the contracts;
    ``EventTypes.of(*message_classes)`` names types outright (for tests and benchmarks
    whose payloads are no contract's events).
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)

    @classmethod
    def of(cls, *message_types: type[Message]) -> EventTypes:
        """Exactly ``message_types``."""
        return cls(message_type.DESCRIPTOR.full_name for message_type in message_types)

    @classmethod
    def from_descriptor_set(cls, files: descriptor_pb2.FileDescriptorSet) -> EventTypes:
        """The event types ``files`` declare, by the module's rule."""
        domains = {
            f.package for f in files.file if _DOMAIN_PACKAGE.fullmatch(f.package) and f.service
        }
        rpc_messages = {
            name.lstrip(".")
            for f in files.file
            for service in f.service
            for method in service.method
            for name in (method.input_type, method.output_type)
        }
        return cls(
            f"{f.package}.{message.name}"
            for f in files.file
            if f.package in domains
            for message in f.message_type
            if past_tense(message.name) and f"{f.package}.{message.name}" not in rpc_messages
        )

    def __contains__(self, full_name: object) -> bool:
        return full_name in self.names

    def check(self, message: Message) -> None:
        """``TypeError`` unless ``message``'s type is one of these events."""
        name = message.DESCRIPTOR.full_name
        if name not in self.names:
            raise TypeError(
                f"{name} is not an event declared in the contracts: an event is a "
                "past-tense message of a domain package (agora.<domain>.v1, one that "
                "declares a service) that no RPC takes or returns; see pkg/events/_catalog.py"
            )


@functools.cache
def contract_events() -> EventTypes:
    """The event types of the contracts' descriptor set (``pkg.contracts.descriptor_set``),
    read once; ``FileNotFoundError`` when there is none (run ``make gen``)."""
    from pkg.contracts import descriptor_set

    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set().read_bytes())
    return EventTypes.from_descriptor_set(files)
