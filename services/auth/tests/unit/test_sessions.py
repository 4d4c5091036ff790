"""Register (replays throttled like logins), login, refresh rotation with reuse detection
and an absolute session lifetime, logout, logout-all."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pkg.errors import AlreadyExists, InvalidArgument, Unauthenticated
from services.auth.domain import (
    InvalidCredentials,
    InvalidRefreshToken,
    NewAccount,
    RefreshTokenReused,
    SessionExpired,
    TooManyAttempts,
    refresh_token_expiry,
)
from services.auth.tests.unit.conftest import FAMILY_LIFETIME, PER_ACCOUNT, PER_ADDRESS, World

PASSWORD = "correct horse battery"
ADDRESS = "10.0.0.1"


def new_account(email: str = "ann@example.com") -> NewAccount:
    return NewAccount(
        email=email, password=PASSWORD, display_name="Ann", roles=(), request_id=str(uuid.uuid4())
    )


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


async def test_register_replayed_with_the_same_request_returns_the_same_user(world: World) -> None:
    request = new_account()
    first, _ = await world.sessions.register(request, client_address=ADDRESS)
    again, pair = await world.sessions.register(request, client_address=ADDRESS)
    assert again == first
    assert (await world.access.verify(pair.access_token)).subject == first.user_id


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ann@example.com", "someone else's password"),
        ("eve@example.com", PASSWORD),
    ],
)
async def test_register_replayed_with_another_request_gets_no_tokens(
    world: World, email: str, password: str
) -> None:
    request = new_account()
    await world.sessions.register(request, client_address=ADDRESS)
    families = dict(world.tokens.families)
    with pytest.raises(InvalidArgument) as caught:
        await world.sessions.register(
            replace(request, email=email, password=password), client_address=ADDRESS
        )
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
    sessions = [
        await world.sessions.login("bob@example.com", PASSWORD, client_address="a")
        for _ in range(3)
    ]
    eve = await world.sessions.login("eve@example.com", PASSWORD, client_address="a")

    assert await world.sessions.logout_all(bob.user_id) == 3
    for pair in sessions:
        with pytest.raises(InvalidRefreshToken):
            await world.sessions.refresh(pair.refresh_token)
    assert await world.sessions.refresh(eve.refresh_token)


async def _fail_logins(world: World, email: str, times: int, address: str) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            await world.sessions.login(email, "not the password", client_address=address)


@pytest.mark.parametrize("password", [PASSWORD, "a wrong guess at it"])
async def test_a_replay_while_the_account_is_locked_is_throttled_before_any_password_check(
    world: World, password: str
) -> None:
    request = new_account()
    await world.sessions.register(request, client_address=ADDRESS)
    await _fail_logins(world, request.email, PER_ACCOUNT, "10.9.9.9")
    checked, families = len(world.users.created), dict(world.tokens.families)

    with pytest.raises(TooManyAttempts) as caught:
        await world.sessions.register(replace(request, password=password), client_address=ADDRESS)
    assert caught.value.reason == "TOO_MANY_ATTEMPTS"
    assert caught.value.metadata == {"scope": "account"}
    assert caught.value.retry_after > 0
    assert len(world.users.created) == checked
    assert world.tokens.families == families


async def test_a_replay_from_a_locked_address_is_throttled(world: World) -> None:
    request = new_account()
    await world.sessions.register(request, client_address=ADDRESS)
    for i in range(PER_ADDRESS):
        await _fail_logins(world, f"someone{i}@example.com", 1, ADDRESS)
    with pytest.raises(TooManyAttempts) as caught:
        await world.sessions.register(request, client_address=ADDRESS)
    assert caught.value.metadata == {"scope": "address"}


async def test_refused_replays_count_as_failed_logins(world: World) -> None:
    request = new_account()
    await world.sessions.register(request, client_address=ADDRESS)
    for _ in range(PER_ACCOUNT):
        with pytest.raises(InvalidArgument):
            await world.sessions.register(
                replace(request, password="guess " * 3), client_address=ADDRESS
            )
    with pytest.raises(TooManyAttempts):
        await world.sessions.login(request.email, PASSWORD, client_address="10.9.9.9")
    world.clock.now += 901
    assert await world.sessions.login(request.email, PASSWORD, client_address="10.9.9.9")


async def test_guesses_through_login_and_replay_together_stop_at_the_account_limit(
    world: World,
) -> None:
    request = new_account()
    await world.sessions.register(request, client_address=ADDRESS)
    outcomes = []
    for attempt in range(3 * PER_ACCOUNT):
        try:
            if attempt % 2:
                await world.sessions.login(
                    request.email, f"guess {attempt:08}", client_address=f"10.1.0.{attempt}"
                )
            else:
                await world.sessions.register(
                    replace(request, password=f"guess {attempt:08}"),
                    client_address=f"10.2.0.{attempt}",
                )
        except (InvalidCredentials, InvalidArgument):
            outcomes.append("checked")
        except TooManyAttempts:
            outcomes.append("throttled")
    assert outcomes.count("checked") == PER_ACCOUNT


async def test_a_first_registration_is_not_throttled_even_from_a_locked_address(
    world: World,
) -> None:
    email = "newcomer@example.com"
    await _fail_logins(world, email, PER_ACCOUNT, ADDRESS)
    for i in range(PER_ADDRESS - PER_ACCOUNT):
        await _fail_logins(world, f"someone{i}@example.com", 1, ADDRESS)
    for other in (email, "someone@example.com"):
        with pytest.raises(TooManyAttempts):
            await world.sessions.login(other, PASSWORD, client_address=ADDRESS)

    account, pair = await world.sessions.register(new_account(email), client_address=ADDRESS)
    assert (await world.access.verify(pair.access_token)).subject == account.user_id


async def test_a_genuine_replay_clears_the_account_failures_like_a_login(world: World) -> None:
    request = new_account()
    first, _ = await world.sessions.register(request, client_address=ADDRESS)
    await _fail_logins(world, request.email, PER_ACCOUNT - 1, "10.9.9.9")
    again, _ = await world.sessions.register(request, client_address=ADDRESS)
    assert again == first
    await _fail_logins(world, request.email, PER_ACCOUNT - 1, "10.9.9.9")
    assert await world.sessions.login(request.email, PASSWORD, client_address="10.9.9.9")


async def test_a_session_that_keeps_refreshing_ends_at_its_absolute_lifetime(world: World) -> None:
    _, pair = await world.sessions.register(new_account(), client_address=ADDRESS)
    token = pair.refresh_token
    for _ in range(4):
        world.clock.now += 7 * 86400
        token = (await world.sessions.refresh(token)).refresh_token
    world.clock.now += 2 * 86400 - 1
    token = (await world.sessions.refresh(token)).refresh_token
    world.clock.now += 1
    with pytest.raises(SessionExpired) as caught:
        await world.sessions.refresh(token)
    assert isinstance(caught.value, Unauthenticated)
    assert caught.value.reason == "SESSION_EXPIRED"


async def test_an_ended_session_is_told_apart_after_the_store_forgot_it(world: World) -> None:
    _, pair = await world.sessions.register(new_account(), client_address=ADDRESS)
    world.clock.now += FAMILY_LIFETIME + 3600
    world.tokens.forget(world.clock.aware())
    assert world.tokens.tokens == {}
    with pytest.raises(SessionExpired):
        await world.sessions.refresh(pair.refresh_token)


async def test_a_session_ended_in_the_store_is_expired_whatever_the_token_says(
    world: World,
) -> None:
    _, pair = await world.sessions.register(new_account(), client_address=ADDRESS)
    family = next(iter(world.tokens.families.values()))[0]
    world.tokens.families[family.family_id] = (
        replace(family, expires_at=world.clock.aware()),
        False,
    )
    with pytest.raises(SessionExpired):
        await world.sessions.refresh(pair.refresh_token)


async def test_rotation_keeps_the_expiry_and_an_altered_one_is_an_unknown_token(
    world: World,
) -> None:
    _, pair = await world.sessions.register(new_account(), client_address=ADDRESS)
    expiry = refresh_token_expiry(pair.refresh_token)
    assert expiry == datetime.fromtimestamp(world.clock.now + FAMILY_LIFETIME, UTC)
    rotated = await world.sessions.refresh(pair.refresh_token)
    assert refresh_token_expiry(rotated.refresh_token) == expiry
    secret, _, _ = rotated.refresh_token.rpartition(".")
    with pytest.raises(InvalidRefreshToken):
        await world.sessions.refresh(f"{secret}.{int(expiry.timestamp()) + 86400}")
