"""The user service's events end a user's sessions, once per event, through the bus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from agora.user.v1 import user_events_pb2
from pkg.events import Event, Rejected
from services.auth.domain import InvalidRefreshToken
from services.auth.entrypoints.events import user_event_bus
from services.auth.service import AccountChanges
from services.auth.tests.unit.conftest import World
from services.auth.tests.unit.test_sessions import PASSWORD, new_account


def _event(type_name: str, event_id: str | None = None) -> Event:
    return Event(
        id=event_id or str(uuid.uuid4()),
        type=type_name,
        source="user",
        subject="",
        time=datetime.now(UTC),
        traceparent="",
        tracestate="",
        message_id="1-0",
    )


async def _apply(
    world: World,
    payload: user_events_pb2.UserRolesChanged | user_events_pb2.UserDisabled,
    event: Event,
) -> None:
    route = user_event_bus(AccountChanges(world.tokens)).route(event.type)
    assert route is not None
    await route.handler(payload, event)


@pytest.mark.parametrize(
    "payload_type", [user_events_pb2.UserRolesChanged, user_events_pb2.UserDisabled]
)
async def test_a_role_change_or_a_disable_ends_every_session_of_that_user_only(
    world: World, payload_type: type[user_events_pb2.UserDisabled]
) -> None:
    ann, _ = await world.sessions.register(new_account(), client_address="10.0.0.1")
    _, bobs = await world.sessions.register(
        new_account("bob@example.com"), client_address="10.0.0.1"
    )
    second = await world.sessions.login("ann@example.com", PASSWORD, client_address="10.0.0.1")

    await _apply(
        world, payload_type(user=f"users/{ann.user_id}"), _event(payload_type.DESCRIPTOR.full_name)
    )

    with pytest.raises(InvalidRefreshToken):
        await world.sessions.refresh(second.refresh_token)
    assert (await world.sessions.refresh(bobs.refresh_token)).access_token


async def test_a_redelivered_event_does_not_end_sessions_opened_since(world: World) -> None:
    ann, _ = await world.sessions.register(new_account(), client_address="10.0.0.1")
    event = _event("agora.user.v1.UserRolesChanged")
    payload = user_events_pb2.UserRolesChanged(user=f"users/{ann.user_id}")
    await _apply(world, payload, event)
    fresh = await world.sessions.login("ann@example.com", PASSWORD, client_address="10.0.0.1")

    await _apply(world, payload, event)

    assert (await world.sessions.refresh(fresh.refresh_token)).access_token


@pytest.mark.parametrize("name", ["", "users/", "users/me", "customers/1", "users/x/y"])
async def test_an_event_about_no_user_is_rejected(world: World, name: str) -> None:
    with pytest.raises(Rejected):
        await _apply(
            world, user_events_pb2.UserDisabled(user=name), _event("agora.user.v1.UserDisabled")
        )


def test_auth_handles_only_the_events_that_change_sessions() -> None:
    assert user_event_bus(AccountChanges(None)).types == {  # type: ignore[arg-type]
        "agora.user.v1.UserRolesChanged",
        "agora.user.v1.UserDisabled",
    }
