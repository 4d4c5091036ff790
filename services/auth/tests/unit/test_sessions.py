"""Register, login, refresh rotation with reuse detection, logout, logout-all."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from pkg.errors import AlreadyExists, InvalidArgument, Unauthenticated
from services.auth.domain import (
    InvalidCredentials,
    InvalidRefreshToken,
    NewAccount,
    RefreshTokenReused,
)
from services.auth.tests.unit.conftest import World

PASSWORD = "correct horse battery"
ADDRESS = "10.0.0.1"


def new_account(email: str = "ann@example.com") -> NewAccount:
    return NewAccount(email=email, password=PASSWORD, display_name="Ann", roles=(),
                      request_id=str(uuid.uuid4()))


async def test_register_creates_the_user_and_returns_a_working_session(world: World) -> None:
    request = new_account()
    account, pair = await world.sessions.register(request, client_address=ADDRESS)

    assert world.users.created == [request]
    principal = await world.access.verify(pair.access_token)
    assert principal.subject == account.user_id
    assert principal.roles == {"customer"}
    assert pair.expires_in == 900
    assert len(pair.refresh_token) >= 43
    refreshed = await world.sessions.refresh(pair.refresh_token)
    assert (await world.access.verify(refreshed.access_token)).subject == account.user_id


async def test_register_with_a_taken_email_fails_with_already_exists(world: World) -> None:
    await world.sessions.register(new_account("ann@example.com"), client_address=ADDRESS)
    with pytest.raises(AlreadyExists) as caught:
        await world.sessions.register(new_account("ANN@example.com"), client_address=ADDRESS)
    assert caught.value.reason == "EMAIL_TAKEN"


async def test_register_replayed_with_the_same_request_returns_the_same_user(
        world: World) -> None:
    request = new_account()
    first, _ = await world.sessions.register(request, client_address=ADDRESS)
    again, pair = await world.sessions.register(request, client_address=ADDRESS)
    assert again == first
    assert (await world.access.verify(pair.access_token)).subject == first.user_id


@pytest.mark.parametrize(("email", "password"), [
    ("ann@example.com", "someone else's password"),
    ("eve@example.com", PASSWORD),
])
async def test_register_replayed_with_another_request_gets_no_tokens(
        world: World, email: str, password: str) -> None:
    request = new_account()
    await world.sessions.register(request, client_address=ADDRESS)
    families = dict(world.tokens.families)
    with pytest.raises(InvalidArgument) as caught:
        await world.sessions.register(replace(request, email=email, password=password),
                                      client_address=ADDRESS)
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert world.tokens.families == families


async def test_login_with_the_right_password_opens_a_session(world: World) -> None:
    account = world.users.add("bob@example.com", PASSWORD, roles=("admin",))
    pair = await world.sessions.login("Bob@Example.com", PASSWORD, client_address="10.0.0.1")
    principal = await world.access.verify(pair.access_token)
    assert principal.subject == account.user_id
    assert principal.roles == {"admin"}


async def test_login_with_a_wrong_password_is_unauthenticated(world: World) -> None:
    world.users.add("bob@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials) as caught:
        await world.sessions.login("bob@example.com", "nope", client_address="10.0.0.1")
    assert isinstance(caught.value, Unauthenticated)
    assert "password" in caught.value.message


async def test_refresh_rotates_the_token(world: World) -> None:
    _, first = await world.sessions.register(new_account(), client_address=ADDRESS)
    second = await world.sessions.refresh(first.refresh_token)
    third = await world.sessions.refresh(second.refresh_token)
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert second.access_token != first.access_token


async def test_reusing_a_rotated_token_revokes_the_whole_family(world: World) -> None:
    _, first = await world.sessions.register(new_account(), client_address=ADDRESS)
    second = await world.sessions.refresh(first.refresh_token)

    with pytest.raises(RefreshTokenReused) as caught:
        await world.sessions.refresh(first.refresh_token)
    assert caught.value.reason == "REFRESH_TOKEN_REUSED"
    with pytest.raises(Unauthenticated):
        await world.sessions.refresh(second.refresh_token)


async def test_reuse_leaves_other_sessions_of_the_user_alone(world: World) -> None:
    world.users.add("bob@example.com", PASSWORD)
    phone = await world.sessions.login("bob@example.com", PASSWORD, client_address="a")
    laptop = await world.sessions.login("bob@example.com", PASSWORD, client_address="b")
    await world.sessions.refresh(phone.refresh_token)
    with pytest.raises(RefreshTokenReused):
        await world.sessions.refresh(phone.refresh_token)
    assert await world.sessions.refresh(laptop.refresh_token)


async def test_an_unknown_refresh_token_is_rejected(world: World) -> None:
    with pytest.raises(InvalidRefreshToken):
        await world.sessions.refresh("x" * 43)


async def test_logout_revokes_the_family_and_is_idempotent(world: World) -> None:
    _, pair = await world.sessions.register(new_account(), client_address=ADDRESS)
    rotated = await world.sessions.refresh(pair.refresh_token)
    await world.sessions.logout(pair.refresh_token)
    await world.sessions.logout(pair.refresh_token)
    await world.sessions.logout("never-issued-" * 4)
    with pytest.raises(InvalidRefreshToken):
        await world.sessions.refresh(rotated.refresh_token)


async def test_logout_all_revokes_every_session_of_the_caller_only(world: World) -> None:
    bob = world.users.add("bob@example.com", PASSWORD)
    world.users.add("eve@example.com", PASSWORD)
    sessions = [await world.sessions.login("bob@example.com", PASSWORD, client_address="a")
                for _ in range(3)]
    eve = await world.sessions.login("eve@example.com", PASSWORD, client_address="a")

    assert await world.sessions.logout_all(bob.user_id) == 3
    for pair in sessions:
        with pytest.raises(InvalidRefreshToken):
            await world.sessions.refresh(pair.refresh_token)
    assert await world.sessions.refresh(eve.refresh_token)
