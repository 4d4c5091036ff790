"""Email addresses, display names, passwords, etags and who may see or edit a user."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.user.domain import (
    Caller,
    Email,
    InvalidField,
    Role,
    User,
    check_password,
    parse_display_name,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _user(**changes: object) -> User:
    fields: dict[str, object] = dict(
        id=uuid4(),
        email=Email("ada@example.com"),
        display_name="Ada",
        roles=frozenset({Role.CUSTOMER}),
        password_hash="x",
        create_time=T0,
        update_time=T0,
    )
    fields.update(changes)
    return User(**fields)  # type: ignore[arg-type]


def test_email_is_trimmed_and_compared_regardless_of_case() -> None:
    email = Email.parse("  Ada.Lovelace@Example.COM \n")
    assert email.value == "Ada.Lovelace@Example.COM"
    assert email == Email.parse("ada.lovelace@example.com")
    assert len({email, Email.parse("ADA.LOVELACE@EXAMPLE.COM")}) == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@@example.com",
        "a da@example.com",
        "ada@-example.com",
        "x" * 65 + "@example.com",
        "ada@" + "a" * 250 + ".com",
    ],
)
def test_malformed_email_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidField) as caught:
        Email.parse(text)
    assert caught.value.field == "email"
    assert caught.value.violations[0].field == "email"


def test_display_name_is_trimmed_and_bounded() -> None:
    assert parse_display_name("  Ada  ") == "Ada"
    assert parse_display_name("x" * 100) == "x" * 100
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(InvalidField, match="display_name"):
            parse_display_name(bad)


def test_password_needs_12_to_128_characters() -> None:
    check_password("x" * 12)
    check_password("x" * 128)
    for bad in ("x" * 11, "x" * 129):
        with pytest.raises(InvalidField, match="password"):
            check_password(bad)


def test_renaming_moves_version_etag_and_update_time() -> None:
    user = _user()
    later = datetime(2025, 2, 1, tzinfo=UTC)
    renamed = user.renamed(" Countess ", later)
    assert renamed.display_name == "Countess"
    assert renamed.version == user.version + 1
    assert renamed.etag != user.etag
    assert renamed.update_time == later
    assert renamed.create_time == user.create_time


def test_only_the_user_and_admins_see_private_fields_and_edit() -> None:
    user = _user()
    me = Caller(user.id, frozenset({Role.CUSTOMER}))
    other = Caller(uuid4(), frozenset({Role.CUSTOMER, Role.PROVIDER}))
    admin = Caller(uuid4(), frozenset({Role.ADMIN}))
    assert me.may_see_private(user) and me.may_edit(user.id)
    assert not other.may_see_private(user) and not other.may_edit(user.id)
    assert admin.may_see_private(user) and admin.may_edit(user.id)


def test_caller_ignores_unknown_role_names() -> None:
    caller = Caller.of(uuid4(), ["admin", "superuser"])
    assert caller.roles == {Role.ADMIN}
