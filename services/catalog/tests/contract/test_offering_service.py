"""OfferingService through generated stubs over mTLS against the migrated database:
admin CRUD with replayed request ids, field mask and etag, keyset pages by title, the
role rules, providers adding offerings to their own profile only (twice is once), the
listings both ways, and a deleted offering taking its links along."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from agora.catalog.v1 import offerings_pb2, offerings_pb2_grpc
from pkg.mtls import secure_channel
from pkg.testing import TokenMint, status_details
from services.catalog.tests.contract.conftest import bearer

pytestmark = pytest.mark.integration


@pytest.fixture
async def offerings(
    catalog_target: str, cert_dir: Path
) -> AsyncIterator[offerings_pb2_grpc.OfferingServiceStub]:
    """OfferingService as the edge forwards it."""
    async with secure_channel(cert_dir, "edge", catalog_target, "catalog") as channel:
        yield offerings_pb2_grpc.OfferingServiceStub(channel)


def _create(title: str, request_id: str = "") -> offerings_pb2.CreateOfferingRequest:
    return offerings_pb2.CreateOfferingRequest(
        offering=offerings_pb2.Offering(title=title, description="At your door."),
        request_id=request_id,
    )


async def test_admin_crud_with_replay_mask_and_etag(
    offerings: offerings_pb2_grpc.OfferingServiceStub, token_mint: TokenMint
) -> None:
    admin, request_id = bearer(token_mint.token(roles=["admin"])), str(uuid.uuid4())
    created = await offerings.CreateOffering(_create("  Plumbing ", request_id), metadata=admin)
    assert created.name.startswith("offerings/") and created.title == "Plumbing"
    again = await offerings.CreateOffering(_create("Plumbing", request_id), metadata=admin)
    assert again == created
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await offerings.CreateOffering(_create("Moving", request_id), metadata=admin)
    assert reused.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    got = await offerings.GetOffering(offerings_pb2.GetOfferingRequest(name=created.name))
    assert got == created
    mask = field_mask_pb2.FieldMask(paths=["title"])
    changed = await offerings.UpdateOffering(
        offerings_pb2.UpdateOfferingRequest(
            offering=offerings_pb2.Offering(name=created.name, title="Pipes", etag=created.etag),
            update_mask=mask,
        ),
        metadata=admin,
    )
    assert changed.title == "Pipes" and changed.description == "At your door."
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await offerings.UpdateOffering(
            offerings_pb2.UpdateOfferingRequest(
                offering=offerings_pb2.Offering(name=created.name, title="X", etag=created.etag),
                update_mask=mask,
            ),
            metadata=admin,
        )
    assert stale.value.code() is grpc.StatusCode.ABORTED
    assert status_details(stale.value)["error_info"].reason == "ETAG_MISMATCH"

    await offerings.DeleteOffering(
        offerings_pb2.DeleteOfferingRequest(name=created.name), metadata=admin
    )
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await offerings.GetOffering(offerings_pb2.GetOfferingRequest(name=created.name))
    assert gone.value.code() is grpc.StatusCode.NOT_FOUND
    assert status_details(gone.value)["error_info"].reason == "OFFERING_NOT_FOUND"


async def test_customers_and_providers_may_not_create_offerings(
    offerings: offerings_pb2_grpc.OfferingServiceStub, token_mint: TokenMint
) -> None:
    for roles in (["customer"], ["provider"]):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await offerings.CreateOffering(
                _create("Tutoring"), metadata=bearer(token_mint.token(roles=roles))
            )
        assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_a_bad_title_names_the_field(
    offerings: offerings_pb2_grpc.OfferingServiceStub, token_mint: TokenMint
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await offerings.CreateOffering(
            _create("   "), metadata=bearer(token_mint.token(roles=["admin"]))
        )
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "offering.title" in status_details(bad.value)["violations"]


async def test_listing_pages_by_title_then_id(
    offerings: offerings_pb2_grpc.OfferingServiceStub, token_mint: TokenMint
) -> None:
    admin, tag = bearer(token_mint.token(roles=["admin"])), uuid.uuid4().hex[:8]
    titles = [f"Page {tag} {letter}" for letter in "dbeac"]
    for title in titles:
        await offerings.CreateOffering(_create(title), metadata=admin)
    seen: list[str] = []
    token = ""
    for _ in range(len(titles) + 1):
        page = await offerings.ListOfferings(
            offerings_pb2.ListOfferingsRequest(
                filter=f'title > "Page {tag}" AND title < "Page {tag} z"',
                page_size=2,
                page_token=token,
            )
        )
        seen += [item.title for item in page.offerings]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(titles)
    with pytest.raises(grpc.aio.AioRpcError) as foreign:
        await offerings.ListOfferings(
            offerings_pb2.ListOfferingsRequest(filter='title = "other"', page_token=token or "x")
        )
    assert foreign.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_providers_manage_their_own_profile_and_anyone_lists_both_ways(
    offerings: offerings_pb2_grpc.OfferingServiceStub, token_mint: TokenMint
) -> None:
    admin = bearer(token_mint.token(roles=["admin"]))
    offering = await offerings.CreateOffering(_create("Moving"), metadata=admin)
    provider = str(uuid.uuid4())
    as_provider = bearer(token_mint.token(provider, roles=["customer", "provider"]))
    link = offerings_pb2.ProviderOffering(offering=offering.name)

    first = await offerings.CreateProviderOffering(
        offerings_pb2.CreateProviderOfferingRequest(parent="providers/me", provider_offering=link),
        metadata=as_provider,
    )
    assert first.name == f"providers/{provider}/{offering.name}"
    assert first.provider == f"providers/{provider}"
    twice = await offerings.CreateProviderOffering(
        offerings_pb2.CreateProviderOfferingRequest(
            parent=f"providers/{provider}", provider_offering=link
        ),
        metadata=as_provider,
    )
    assert twice == first

    with pytest.raises(grpc.aio.AioRpcError) as other:
        await offerings.CreateProviderOffering(
            offerings_pb2.CreateProviderOfferingRequest(
                parent=f"providers/{uuid.uuid4()}", provider_offering=link
            ),
            metadata=as_provider,
        )
    assert other.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert status_details(other.value)["error_info"].reason == "PROVIDER_NOT_CALLER"
    with pytest.raises(grpc.aio.AioRpcError) as customer:
        await offerings.CreateProviderOffering(
            offerings_pb2.CreateProviderOfferingRequest(
                parent="providers/me", provider_offering=link
            ),
            metadata=bearer(token_mint.token(roles=["customer"])),
        )
    assert customer.value.code() is grpc.StatusCode.PERMISSION_DENIED

    of_provider = await offerings.ListProviderOfferings(
        offerings_pb2.ListProviderOfferingsRequest(parent=f"providers/{provider}")
    )
    assert [item.offering for item in of_provider.provider_offerings] == [offering.name]
    of_offering = await offerings.ListOfferingProviders(
        offerings_pb2.ListOfferingProvidersRequest(offering=offering.name)
    )
    assert [item.provider for item in of_offering.provider_offerings] == [f"providers/{provider}"]

    await offerings.DeleteProviderOffering(
        offerings_pb2.DeleteProviderOfferingRequest(name=f"providers/me/{offering.name}"),
        metadata=as_provider,
    )
    with pytest.raises(grpc.aio.AioRpcError) as removed:
        await offerings.DeleteProviderOffering(
            offerings_pb2.DeleteProviderOfferingRequest(name=f"providers/me/{offering.name}"),
            metadata=as_provider,
        )
    assert status_details(removed.value)["error_info"].reason == "PROVIDER_OFFERING_NOT_FOUND"


async def test_deleting_an_offering_removes_its_links(
    offerings: offerings_pb2_grpc.OfferingServiceStub, token_mint: TokenMint
) -> None:
    admin = bearer(token_mint.token(roles=["admin"]))
    offering = await offerings.CreateOffering(_create("Tutoring"), metadata=admin)
    provider = str(uuid.uuid4())
    await offerings.CreateProviderOffering(
        offerings_pb2.CreateProviderOfferingRequest(
            parent="providers/me",
            provider_offering=offerings_pb2.ProviderOffering(offering=offering.name),
        ),
        metadata=bearer(token_mint.token(provider, roles=["provider"])),
    )
    await offerings.DeleteOffering(
        offerings_pb2.DeleteOfferingRequest(name=offering.name), metadata=admin
    )
    left = await offerings.ListProviderOfferings(
        offerings_pb2.ListProviderOfferingsRequest(parent=f"providers/{provider}")
    )
    assert list(left.provider_offerings) == []
