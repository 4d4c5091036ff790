"""Only event types the contracts declare may be committed (``pkg.events.EventTypes``):
the rule on a descriptor set, on the real contracts, and at ``SqlUnitOfWork.commit`` /
``FakeUnitOfWork.commit``, where an undeclared type commits nothing."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import descriptor_pb2, wrappers_pb2
from google.protobuf.message import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agora.events.v1 import envelope_pb2
from agora.user.v1 import user_pb2
from pkg.events import OUTBOX, EventTypes, contract_events, past_tense
from pkg.sql_uow import SqlUnitOfWork
from pkg.testing import FakeUnitOfWork
from pkg.tests._events_kit import (
    ACCOUNTS,
    Account,
    Accounts,
    Deposited,
    database_url,
    engine,
    sessions,
)

__all__ = ["database_url", "engine", "sessions"]


def _files() -> descriptor_pb2.FileDescriptorSet:
    """A contract-like set: a domain package with a service, and a shared package."""
    shop = descriptor_pb2.FileDescriptorProto(
        name="agora/shop/v1/shop.proto", package="agora.shop.v1"
    )
    for name in (
        "Order",
        "GetOrderRequest",
        "OrderPaid",
        "OrderShipped",
        "PlaceOrder",
        "OrderCancelRequested",
    ):
        shop.message_type.add(name=name)
    shop.message_type[2].nested_type.add(name="LineAdded")
    method = shop.service.add(name="ShopService").method.add(name="GetOrder")
    method.input_type, method.output_type = ".agora.shop.v1.GetOrderRequest", ".agora.shop.v1.Order"
    events = descriptor_pb2.FileDescriptorProto(
        name="agora/shop/v1/events.proto", package="agora.shop.v1"
    )
    events.message_type.add(name="OrderRefunded")
    shared = descriptor_pb2.FileDescriptorProto(
        name="agora/errors/v1/errors.proto", package="agora.errors.v1"
    )
    shared.message_type.add(name="CheckFailed")
    return descriptor_pb2.FileDescriptorSet(file=[shop, events, shared])


def test_events_are_past_tense_top_level_messages_of_a_domain_package_no_rpc_uses() -> None:
    assert EventTypes.from_descriptor_set(_files()).names == {
        "agora.shop.v1.OrderPaid",
        "agora.shop.v1.OrderShipped",
        "agora.shop.v1.OrderCancelRequested",
        "agora.shop.v1.OrderRefunded",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("UserCreated", True),
        ("PaymentFailed", True),
        ("OrderPaid", True),
        ("MessageSent", True),
        ("User", False),
        ("DisableUser", False),
        ("Need", False),
        ("Ed", False),
        ("", False),
        ("lowercased", False),
    ],
)
def test_past_tense_reads_the_last_camel_case_word(name: str, expected: bool) -> None:
    assert past_tense(name) is expected


def test_the_contracts_resources_requests_and_shared_types_are_not_events() -> None:
    declared = contract_events()
    for message_type in (
        user_pb2.User,
        user_pb2.GetUserRequest,
        envelope_pb2.Envelope,
        wrappers_pb2.Int64Value,
    ):
        assert message_type.DESCRIPTOR.full_name not in declared
        with pytest.raises(TypeError, match="not an event declared in the contracts"):
            declared.check(message_type())
    assert all(name.startswith("agora.") for name in declared.names)


def _mapper(message: Message) -> Any:
    def to_proto(event: object) -> tuple[str, Message]:
        assert isinstance(event, Deposited)
        return f"accounts/{event.account_id}", message

    return to_proto


@pytest.mark.integration
@pytest.mark.parametrize(
    "message",
    [wrappers_pb2.Int64Value(value=1), user_pb2.User(name="users/x")],
    ids=["wrapper", "resource"],
)
async def test_committing_an_undeclared_type_raises_and_commits_nothing(
    sessions: async_sessionmaker[AsyncSession], message: Message
) -> None:
    uow = SqlUnitOfWork(sessions, source="me", mapper=_mapper(message), repositories=Accounts)
    with pytest.raises(TypeError, match=message.DESCRIPTOR.full_name):
        async with uow:
            account = Account("undeclared")
            await uow.repositories.add(account)
            account.deposit(1)
            await uow.commit()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ACCOUNTS)) == 0
        assert await session.scalar(select(func.count()).select_from(OUTBOX)) == 0


async def test_the_fake_unit_of_work_refuses_an_undeclared_type_too() -> None:
    class Repo:
        def __init__(self, seen: Any) -> None:
            self.seen = seen

    uow = FakeUnitOfWork(Repo, mapper=_mapper(wrappers_pb2.Int64Value(value=1)))
    async with uow:
        account = Account("a")
        uow.repositories.seen(account)
        account.deposit(1)
        with pytest.raises(TypeError, match=r"google\.protobuf\.Int64Value"):
            await uow.commit()
    assert uow.committed == [] and uow.messages == []
