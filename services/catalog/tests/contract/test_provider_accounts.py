"""A provider's changes to their own profile ask the user service whether their account is
active: the client adapter (``GrpcAccounts``) through the generated ``UserService`` stub
over mTLS as ``catalog``, with the provider's token forwarded, against the test kit's
stand-in user service.  An active account adds and removes, a disabled one is refused
(PERMISSION_DENIED, ACCOUNT_DISABLED) with nothing changed, the user service down or
unreachable is UNAVAILABLE (USER_UNAVAILABLE) and the public reads go on."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agora.catalog.v1 import offerings_pb2, offerings_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.testing import StandInUsers, TokenMint, serving, status_details
from services.catalog.app import build
from services.catalog.tests.contract.conftest import bearer, server_settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def offerings(
    catalog_target: str, cert_dir: Path
) -> AsyncIterator[offerings_pb2_grpc.OfferingServiceStub]:
    """OfferingService as the edge forwards it."""
    async with secure_channel(cert_dir, "edge", catalog_target, "catalog") as channel:
        yield offerings_pb2_grpc.OfferingServiceStub(channel)


async def _offering(stub: offerings_pb2_grpc.OfferingServiceStub, token_mint: TokenMint) -> str:
    """The name of a new offering an admin created."""
    created = await stub.CreateOffering(
        offerings_pb2.CreateOfferingRequest(offering=offerings_pb2.Offering(title="Moving")),
        metadata=bearer(token_mint.token(roles=["admin"])),
    )
    return str(created.name)


def _add(offering: str) -> offerings_pb2.CreateProviderOfferingRequest:
    return offerings_pb2.CreateProviderOfferingRequest(
        parent="providers/me",
        provider_offering=offerings_pb2.ProviderOffering(offering=offering),
    )


def _remove(offering: str) -> offerings_pb2.DeleteProviderOfferingRequest:
    return offerings_pb2.DeleteProviderOfferingRequest(name=f"providers/me/{offering}")


async def _profile(stub: offerings_pb2_grpc.OfferingServiceStub, provider: str) -> list[str]:
    """The offerings on ``provider``'s profile, read anonymously."""
    page = await stub.ListProviderOfferings(
        offerings_pb2.ListProviderOfferingsRequest(parent=f"providers/{provider}")
    )
    return [link.offering for link in page.provider_offerings]


async def test_an_active_provider_adds_and_removes_and_the_user_service_sees_that_caller(
    offerings: offerings_pb2_grpc.OfferingServiceStub,
    users: tuple[str, StandInUsers],
    token_mint: TokenMint,
) -> None:
    offering, provider = await _offering(offerings, token_mint), str(uuid.uuid4())
    as_provider = bearer(token_mint.token(provider, roles=["provider"]))
    link = await offerings.CreateProviderOffering(_add(offering), metadata=as_provider)
    assert link.provider == f"providers/{provider}"
    assert await _profile(offerings, provider) == [offering]
    await offerings.DeleteProviderOffering(_remove(offering), metadata=as_provider)
    assert await _profile(offerings, provider) == []
    assert [call for call in users[1].calls if call[1] == provider] == [
        ("catalog", provider),
        ("catalog", provider),
    ]


async def test_a_disabled_provider_is_refused_while_its_token_lives(
    offerings: offerings_pb2_grpc.OfferingServiceStub,
    users: tuple[str, StandInUsers],
    token_mint: TokenMint,
) -> None:
    offering, provider = await _offering(offerings, token_mint), str(uuid.uuid4())
    as_provider = bearer(token_mint.token(provider, roles=["provider"]))
    await offerings.CreateProviderOffering(_add(offering), metadata=as_provider)
    other = await _offering(offerings, token_mint)
    users[1].disabled.add(provider)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as added:
            await offerings.CreateProviderOffering(_add(other), metadata=as_provider)
        with pytest.raises(grpc.aio.AioRpcError) as removed:
            await offerings.DeleteProviderOffering(_remove(offering), metadata=as_provider)
    finally:
        users[1].disabled.discard(provider)
    for caught in (added, removed):
        assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
        info = status_details(caught.value)["error_info"]
        assert (info.reason, info.domain) == ("ACCOUNT_DISABLED", "agora.local")
        assert dict(info.metadata) == {"user": f"users/{provider}"}
    assert await _profile(offerings, provider) == [offering]


async def test_the_user_service_down_is_unavailable_and_reads_go_on(
    offerings: offerings_pb2_grpc.OfferingServiceStub,
    users: tuple[str, StandInUsers],
    token_mint: TokenMint,
) -> None:
    offering, provider = await _offering(offerings, token_mint), str(uuid.uuid4())
    as_provider = bearer(token_mint.token(provider, roles=["provider"]))
    users[1].up = False
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await offerings.CreateProviderOffering(_add(offering), metadata=as_provider)
        assert await _profile(offerings, provider) == []
    finally:
        users[1].up = True
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert status_details(caught.value)["error_info"].reason == "USER_UNAVAILABLE"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_user_service_is_unavailable_within_the_deadline(
    migrated_database: str, redis_url: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    settings = server_settings(migrated_database, redis_url, user_timeout_seconds=0.5)
    mesh = MeshSettings.model_validate(
        {"cert_dir": cert_dir, "endpoints": {"user": f"127.0.0.1:{_closed_port()}"}}
    )
    async with (
        serving(build(settings, mesh, verifier=token_mint.verifier)) as target,
        secure_channel(cert_dir, "edge", target, "catalog") as channel,
    ):
        stub = offerings_pb2_grpc.OfferingServiceStub(channel)
        offering = await _offering(stub, token_mint)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CreateProviderOffering(
                _add(offering),
                metadata=bearer(token_mint.token(roles=["provider"])),
                timeout=30,
            )
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert status_details(caught.value)["error_info"].reason == "USER_UNAVAILABLE"


async def test_without_a_user_endpoint_the_service_does_not_build(
    migrated_database: str, redis_url: str, cert_dir: Path, token_mint: TokenMint
) -> None:
    mesh = MeshSettings.model_validate({"cert_dir": cert_dir, "endpoints": {}})
    with pytest.raises(ValueError, match="'user'"):
        build(server_settings(migrated_database, redis_url), mesh, verifier=token_mint.verifier)
