"""Failed logins are throttled per account and per client address."""

from __future__ import annotations

import pytest

from pkg.errors import ResourceExhausted
from services.auth.domain import InvalidCredentials, TooManyAttempts
from services.auth.tests.unit.conftest import World

PASSWORD = "correct horse battery"


async def fail(world: World, email: str, address: str = "10.0.0.1") -> None:
    with pytest.raises(InvalidCredentials):
        await world.sessions.login(email, "wrong", client_address=address)


async def test_sixth_attempt_after_five_failures_is_refused_even_with_the_password(
    world: World,
) -> None:
    world.users.add("bob@example.com", PASSWORD)
    for _ in range(5):
        await fail(world, "bob@example.com")
    world.clock.now += 60
    with pytest.raises(TooManyAttempts) as caught:
        await world.sessions.login("BOB@example.com", PASSWORD, client_address="10.9.9.9")
    assert isinstance(caught.value, ResourceExhausted)
    assert caught.value.retry_after == pytest.approx(900 - 60)
    assert caught.value.metadata == {"scope": "account"}


async def test_login_works_again_when_the_window_ends(world: World) -> None:
    world.users.add("bob@example.com", PASSWORD)
    for _ in range(5):
        await fail(world, "bob@example.com")
    world.clock.now += 901
    assert await world.sessions.login("bob@example.com", PASSWORD, client_address="10.0.0.1")


async def test_a_successful_login_clears_the_account_counter(world: World) -> None:
    world.users.add("bob@example.com", PASSWORD)
    for _ in range(4):
        await fail(world, "bob@example.com")
    await world.sessions.login("bob@example.com", PASSWORD, client_address="10.0.0.1")
    for _ in range(4):
        await fail(world, "bob@example.com")
    assert await world.sessions.login("bob@example.com", PASSWORD, client_address="10.0.0.1")


async def test_one_address_guessing_many_accounts_is_refused(world: World) -> None:
    world.users.add("new@example.com", PASSWORD)
    for i in range(20):
        await fail(world, f"user{i}@example.com", address="203.0.113.7")
    with pytest.raises(TooManyAttempts) as caught:
        await world.sessions.login("new@example.com", PASSWORD, client_address="203.0.113.7")
    assert caught.value.metadata == {"scope": "address"}
    assert await world.sessions.login("new@example.com", PASSWORD, client_address="198.51.100.1")
