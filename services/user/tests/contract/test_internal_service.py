"""UserInternalService: only auth may call it; creation rules and credential checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import grpc
import psycopg
import pytest

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.testing import status_details
from services.user.tests.conftest import PASSWORD, random_email
from services.user.tests.contract.conftest import internal_stub, register

pytestmark = pytest.mark.integration


def _rows_with_email(database_url: str, email: str) -> int:
    libpq = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq) as conn:
        row = conn.execute(
            "SELECT count(*) FROM users WHERE lower(email) = lower(%s)", (email,)
        ).fetchone()
    return int(row[0]) if row else 0


async def test_auth_creates_a_customer(internal: user_pb2_grpc.UserInternalServiceStub) -> None:
    email = random_email()
    user = await register(internal, email=email, display_name="Ada")
    assert user.name.startswith("users/")
    uuid.UUID(user.name.removeprefix("users/"))
    assert (user.email, user.display_name) == (email, "Ada")
    assert list(user.roles) == [user_pb2.ROLE_CUSTOMER]
    assert user.etag


@pytest.mark.parametrize("identity", ["cli", "edge", "user"])
async def test_other_workloads_may_not_create_users(
    channels: Callable[[str], grpc.aio.Channel], identity: str
) -> None:
    stub = internal_stub(channels(identity))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateUser(
            user_pb2.CreateUserRequest(
                email=random_email(), password=PASSWORD, display_name="Mallory"
            )
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert status_details(caught.value)["error_info"].reason == "CALLER_NOT_ALLOWED"


async def test_invalid_email_is_a_field_violation(
    internal: user_pb2_grpc.UserInternalServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await register(internal, email="not-an-email")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "email" in status_details(caught.value)["violations"]


async def test_admin_role_cannot_be_requested(
    internal: user_pb2_grpc.UserInternalServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await register(internal, roles=[user_pb2.ROLE_ADMIN])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "roles[0]" in status_details(caught.value)["violations"]


async def test_duplicate_email_in_other_case_already_exists_once(
    internal: user_pb2_grpc.UserInternalServiceStub, migrated_database: str
) -> None:
    email = random_email()
    await register(internal, email=email)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await register(internal, email=email.upper())
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert status_details(caught.value)["error_info"].reason == "EMAIL_TAKEN"
    assert _rows_with_email(migrated_database, email) == 1


async def test_retried_create_with_request_id_returns_the_same_user(
    internal: user_pb2_grpc.UserInternalServiceStub, migrated_database: str
) -> None:
    email, request_id = random_email(), str(uuid.uuid4())
    first = await register(internal, email=email, request_id=request_id)
    again = await register(internal, email=email, request_id=request_id)
    assert again == first
    assert _rows_with_email(migrated_database, email) == 1


@pytest.mark.parametrize(
    "changes", [{"password": "another long password"}, {"display_name": "Mallory"}]
)
async def test_request_id_with_another_request_or_password_is_refused(
    internal: user_pb2_grpc.UserInternalServiceStub, migrated_database: str, changes: dict[str, str]
) -> None:
    email, request_id = random_email(), str(uuid.uuid4())
    await register(internal, email=email, request_id=request_id)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await register(internal, email=email, request_id=request_id, **changes)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = status_details(caught.value)
    assert details["error_info"].reason == "IDEMPOTENCY_KEY_REUSED"
    assert list(details["violations"]) == ["request_id"]
    assert email not in str(details["status"])
    assert _rows_with_email(migrated_database, email) == 1


async def test_verify_credentials_accepts_the_password_in_any_email_case(
    internal: user_pb2_grpc.UserInternalServiceStub,
) -> None:
    user = await register(internal)
    verified = await internal.VerifyCredentials(
        user_pb2.VerifyCredentialsRequest(email=user.email.upper(), password=PASSWORD)
    )
    assert verified.name == user.name


@pytest.mark.parametrize("known_email", [True, False])
async def test_wrong_credentials_are_unauthenticated_alike(
    internal: user_pb2_grpc.UserInternalServiceStub, known_email: bool
) -> None:
    user = await register(internal)
    email = user.email if known_email else random_email()
    password = "wrong password!" if known_email else PASSWORD
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await internal.VerifyCredentials(
            user_pb2.VerifyCredentialsRequest(email=email, password=password)
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.details() == "wrong email or password"
    assert status_details(caught.value)["error_info"].reason == "INVALID_CREDENTIALS"
