"""Proto <-> domain mapping: names, roles, users, callers and field paths."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from agora.user.v1 import user_pb2
from pkg.errors import Unauthenticated
from pkg.server import Principal
from services.user.domain import Caller, Email, InvalidField, Role, User
from services.user.entrypoints.grpc import mappers

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _user() -> User:
    return User(
        id=uuid4(),
        email=Email("Ada@Example.com"),
        display_name="Ada",
        roles=frozenset({Role.PROVIDER, Role.CUSTOMER}),
        password_hash="secret-hash",
        create_time=T0,
        update_time=T0,
        version=3,
    )


def test_user_maps_to_proto_without_its_password_hash() -> None:
    user = _user()
    message = mappers.user_to_proto(user, show_email=True)
    assert message.name == f"users/{user.id}"
    assert message.email == "Ada@Example.com"
    assert list(message.roles) == [user_pb2.ROLE_CUSTOMER, user_pb2.ROLE_PROVIDER]
    assert message.create_time.ToDatetime(tzinfo=UTC) == T0
    assert message.etag == user.etag
    assert b"secret-hash" not in message.SerializeToString()


def test_email_is_left_out_for_other_users() -> None:
    assert mappers.user_to_proto(_user(), show_email=False).email == ""


def test_users_me_names_the_caller_and_uuids_name_users() -> None:
    caller = Caller(uuid4(), frozenset())
    other = uuid4()
    assert mappers.parse_user_name("users/me", caller) == caller.user_id
    assert mappers.parse_user_name(f"users/{other}", caller) == other


@pytest.mark.parametrize("name", ["", "users/", "users/42", "people/me", "me"])
def test_bad_names_are_refused_at_the_given_field(name: str) -> None:
    with pytest.raises(InvalidField) as caught:
        mappers.parse_user_name(name, Caller(uuid4(), frozenset()), field="user.name")
    assert caught.value.field == "user.name"


def test_request_roles_map_and_unspecified_is_refused() -> None:
    assert mappers.roles_from_proto([user_pb2.ROLE_PROVIDER]) == [Role.PROVIDER]
    with pytest.raises(InvalidField) as caught:
        mappers.roles_from_proto([user_pb2.ROLE_CUSTOMER, user_pb2.ROLE_UNSPECIFIED])
    assert caught.value.field == "roles[1]"


@pytest.mark.parametrize("subject_form", ["{}", "users/{}"])
def test_caller_comes_from_the_token_subject(subject_form: str) -> None:
    user_id = uuid4()
    principal = Principal(
        subject=subject_form.format(user_id),
        roles=frozenset({"admin", "unknown"}),
        token_id="t",
        expires_at=0,
    )
    assert mappers.caller_from_principal(principal) == Caller(user_id, frozenset({Role.ADMIN}))


def test_non_user_subject_is_unauthenticated() -> None:
    principal = Principal(subject="service-x", roles=frozenset(), token_id="t", expires_at=0)
    with pytest.raises(Unauthenticated):
        mappers.caller_from_principal(principal)
