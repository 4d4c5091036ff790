"""The event backbone without servers: envelopes, the message bus, the fake unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from google.protobuf import wrappers_pb2

from pkg.events import (
    Event,
    MalformedEnvelope,
    MessageBus,
    current_traceparent,
    event_of,
    open_envelope,
    seal,
)
from pkg.obs import request_context
from pkg.testing import FakeUnitOfWork
from pkg.tests._events_kit import KIT_EVENTS, Account, Deposited, deposited_to_proto
from pkg.uow import Aggregate

TIME = datetime(2026, 12, 4, 12, 0, 0, 123000, tzinfo=UTC)


def test_an_envelope_round_trips_with_every_attribute() -> None:
    envelope = seal(
        wrappers_pb2.Int64Value(value=42),
        source="user",
        subject="users/1",
        time=TIME,
        traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        tracestate="k=v",
    )
    opened = open_envelope(envelope.SerializeToString())
    event = event_of(opened, "1-0")
    assert uuid.UUID(event.id).version == 4
    assert (event.type, event.source, event.subject, event.time, event.tracestate) == (
        "google.protobuf.Int64Value",
        "user",
        "users/1",
        TIME,
        "k=v",
    )
    payload = wrappers_pb2.Int64Value()
    assert opened.payload.Unpack(payload) and payload.value == 42


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: setattr(e, "id", "not-a-uuid"), "not a UUID"),
        (lambda e: setattr(e, "type", ""), "does not match"),
        (lambda e: setattr(e, "type", "google.protobuf.StringValue"), "does not match"),
    ],
)
def test_a_malformed_envelope_is_refused_with_the_reason(mutate: object, reason: str) -> None:
    envelope = seal(wrappers_pb2.Int64Value(value=1), source="s", subject="x/1", time=TIME)
    mutate(envelope)  # type: ignore[operator]
    with pytest.raises(MalformedEnvelope, match=reason):
        open_envelope(envelope.SerializeToString())
    with pytest.raises(MalformedEnvelope, match=r"not an agora\.events\.v1\.Envelope"):
        open_envelope(b"\xff\xff\xff")


def test_the_traceparent_is_the_running_requests() -> None:
    assert current_traceparent() == ""
    with request_context(trace_id="c" * 32, span_id="d" * 16):
        assert current_traceparent() == f"00-{'c' * 32}-{'d' * 16}-01"


async def test_the_bus_routes_by_type_and_refuses_a_second_handler() -> None:
    async def handle(payload: wrappers_pb2.Int64Value, event: Event) -> None:
        return None

    bus = MessageBus({wrappers_pb2.Int64Value: handle})
    route = bus.route("google.protobuf.Int64Value")
    assert route is not None and route.message_type is wrappers_pb2.Int64Value
    assert bus.route("google.protobuf.StringValue") is None
    with pytest.raises(ValueError, match="registered already"):
        bus.register(wrappers_pb2.Int64Value, handle)


class FakeAccounts:
    def __init__(self, seen: object) -> None:
        self.seen = seen
        self.accounts: dict[str, Account] = {}

    def get(self, account_id: str) -> Account:
        account = self.accounts.setdefault(account_id, Account(account_id))
        self.seen(account)  # type: ignore[operator]
        return account


def _uow() -> FakeUnitOfWork[FakeAccounts]:
    def build(seen: object) -> FakeAccounts:
        return FakeAccounts(seen)

    return FakeUnitOfWork(
        build,
        mapper=deposited_to_proto,  # type: ignore[arg-type]
        events=KIT_EVENTS,
    )


async def test_the_fake_unit_of_work_records_committed_events_only() -> None:
    uow = _uow()
    async with uow:
        account = uow.repositories.get("a")
        account.deposit(5)
        uow.repositories.get("a").deposit(2)
        await uow.commit()
    async with uow:
        uow.repositories.get("a").deposit(100)
    assert uow.committed == [Deposited("a", 5, 5), Deposited("a", 2, 7)]
    assert [(subject, m.value) for subject, m in uow.messages] == [  # type: ignore[attr-defined]
        ("accounts/a", 5),
        ("accounts/a", 7),
    ]
    assert uow.commits == 1
    assert await uow.received("e1") and not await uow.received("e1")


async def test_the_fake_unit_of_work_fails_on_an_event_the_mapper_does_not_know() -> None:
    uow = _uow()
    async with uow:
        account: Aggregate = uow.repositories.get("a")
        account.events.append(object())
        with pytest.raises(TypeError):
            await uow.commit()
