"""UserService through generated stubs over mTLS: tokens, ownership, roles, paging."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.testing import TokenMint, status_details
from services.user.tests.contract.conftest import bearer, register, subject

pytestmark = pytest.mark.integration


def _rename(name: str, display_name: str, etag: str = "") -> user_pb2.UpdateUserRequest:
    return user_pb2.UpdateUserRequest(
        user=user_pb2.User(name=name, display_name=display_name, etag=etag),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )


async def test_get_users_me_answers_the_caller_with_email(
    public: user_pb2_grpc.UserServiceStub,
    internal: user_pb2_grpc.UserInternalServiceStub,
    token_mint: TokenMint,
) -> None:
    ada = await register(internal, display_name="Ada")
    me = await public.GetUser(
        user_pb2.GetUserRequest(name="users/me"), metadata=bearer(token_mint.token(subject(ada)))
    )
    assert (me.name, me.email, me.display_name) == (ada.name, ada.email, "Ada")
    assert list(me.roles) == [user_pb2.ROLE_CUSTOMER]


async def test_other_users_email_is_hidden_but_not_from_admins(
    public: user_pb2_grpc.UserServiceStub,
    internal: user_pb2_grpc.UserInternalServiceStub,
    token_mint: TokenMint,
) -> None:
    ada, bob = await register(internal), await register(internal)
    seen = await public.GetUser(
        user_pb2.GetUserRequest(name=ada.name), metadata=bearer(token_mint.token(subject(bob)))
    )
    assert seen.email == "" and seen.display_name == ada.display_name
    by_admin = await public.GetUser(
        user_pb2.GetUserRequest(name=ada.name), metadata=bearer(token_mint.token(roles=["admin"]))
    )
    assert by_admin.email == ada.email


async def test_get_without_token_is_unauthenticated(public: user_pb2_grpc.UserServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await public.GetUser(user_pb2.GetUserRequest(name="users/me"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_unknown_user_is_not_found(
    public: user_pb2_grpc.UserServiceStub, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await public.GetUser(
            user_pb2.GetUserRequest(name="users/00000000-0000-4000-8000-000000000000"),
            metadata=bearer(token_mint.token()),
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert status_details(caught.value)["error_info"].reason == "USER_NOT_FOUND"


async def test_user_renames_themself_and_the_etag_moves(
    public: user_pb2_grpc.UserServiceStub,
    internal: user_pb2_grpc.UserInternalServiceStub,
    token_mint: TokenMint,
) -> None:
    ada = await register(internal)
    token = bearer(token_mint.token(subject(ada)))
    renamed = await public.UpdateUser(_rename("users/me", "Countess", ada.etag), metadata=token)
    assert renamed.display_name == "Countess"
    assert renamed.etag != ada.etag
    assert renamed.update_time.ToDatetime() > ada.update_time.ToDatetime()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await public.UpdateUser(_rename("users/me", "Again", ada.etag), metadata=token)
    assert caught.value.code() == grpc.StatusCode.ABORTED
    again = await public.GetUser(user_pb2.GetUserRequest(name="users/me"), metadata=token)
    assert again.display_name == "Countess"


async def test_customer_cannot_rename_someone_else(
    public: user_pb2_grpc.UserServiceStub,
    internal: user_pb2_grpc.UserInternalServiceStub,
    token_mint: TokenMint,
) -> None:
    ada, bob = await register(internal, display_name="Ada"), await register(internal)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await public.UpdateUser(
            _rename(ada.name, "Bob was here"), metadata=bearer(token_mint.token(subject(bob)))
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    unchanged = await public.GetUser(
        user_pb2.GetUserRequest(name=ada.name), metadata=bearer(token_mint.token(subject(ada)))
    )
    assert unchanged.display_name == "Ada"


async def test_update_mask_beyond_display_name_is_invalid(
    public: user_pb2_grpc.UserServiceStub,
    internal: user_pb2_grpc.UserInternalServiceStub,
    token_mint: TokenMint,
) -> None:
    ada = await register(internal)
    request = _rename("users/me", "X")
    request.update_mask.paths.append("email")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await public.UpdateUser(request, metadata=bearer(token_mint.token(subject(ada))))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "update_mask" in status_details(caught.value)["violations"]


async def test_list_users_is_refused_to_customers(
    public: user_pb2_grpc.UserServiceStub, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await public.ListUsers(
            user_pb2.ListUsersRequest(), metadata=bearer(token_mint.token(roles=["customer"]))
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_admin_pages_through_all_users_newest_first(
    public: user_pb2_grpc.UserServiceStub,
    internal: user_pb2_grpc.UserInternalServiceStub,
    token_mint: TokenMint,
) -> None:
    created = [await register(internal) for _ in range(5)]
    token = bearer(token_mint.token(roles=["admin"]))
    listed: list[user_pb2.User] = []
    page_token = ""
    while True:
        page = await public.ListUsers(
            user_pb2.ListUsersRequest(page_size=2, page_token=page_token), metadata=token
        )
        assert len(page.users) <= 2
        listed += page.users
        page_token = page.next_page_token
        if not page_token:
            break
    names = [u.name for u in listed]
    assert len(names) == len(set(names))
    assert names[:5] == [u.name for u in reversed(created)]
    assert all(u.email for u in listed)
    times = [u.create_time.ToDatetime() for u in listed]
    assert times == sorted(times, reverse=True)


async def test_bad_page_token_is_a_field_violation(
    public: user_pb2_grpc.UserServiceStub, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await public.ListUsers(
            user_pb2.ListUsersRequest(page_token="not-a-token"),
            metadata=bearer(token_mint.token(roles=["admin"])),
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in status_details(caught.value)["violations"]


async def test_health_follows_the_database(channels) -> None:  # type: ignore[no-untyped-def]
    health = health_pb2_grpc.HealthStub(channels("cli"))
    reply = await health.Check(health_pb2.HealthCheckRequest(service="agora.user.v1.UserService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
