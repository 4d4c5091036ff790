"""``agora.catalog.v1.OfferingService``: its servicer and its proto <-> domain mappers.

Request -> mapper -> use case (``services.catalog.service.offerings.Offerings``) ->
mapper -> reply.  Access rules come from the contract (``agora.policy.v1.rule``) and are
enforced by the server's interceptors before these run; ownership of a provider profile
is the use case's.  Field paths in errors are the request's (``offering.title``), as
AIP-193 asks.
"""

from __future__ import annotations

import contextlib
from uuid import UUID

import grpc
from google.protobuf import empty_pb2

from agora.catalog.v1 import offerings_pb2, offerings_pb2_grpc
from agora.catalog.v1.reasons import CatalogReason
from pkg.fields import parse_request_id, parse_resource_id, request_fields
from pkg.filtering import ListRequest
from pkg.server import require_principal
from pkg.timestamps import timestamp_to_proto
from services.catalog.domain import InvalidField
from services.catalog.domain.offerings import Offering, ProviderOffering
from services.catalog.service.offerings import Offerings

_OFFERINGS = "offerings/"
_PROVIDERS = "providers/"
_ME = "me"
_FIELDS = {"title": "offering.title", "description": "offering.description"}


def offering_name(offering_id: UUID) -> str:
    """The resource name ``offerings/{uuid}``."""
    return f"{_OFFERINGS}{offering_id}"


def provider_name(provider_id: UUID) -> str:
    """The resource name ``providers/{user uuid}``."""
    return f"{_PROVIDERS}{provider_id}"


def _uuid(text: str, field: str, shape: str) -> UUID:
    with contextlib.suppress(ValueError):
        return UUID(text)
    raise InvalidField(field, f"must be {shape}", reason=CatalogReason.NAME_INVALID)


def parse_offering_name(name: str, *, field: str = "name") -> UUID:
    """The id ``name`` denotes; ``InvalidField`` (at ``field``, NAME_INVALID) unless
    ``offerings/{uuid}``."""
    return parse_resource_id(name, "offerings", field=field, reason=CatalogReason.NAME_INVALID)


def parse_provider_name(name: str, *, field: str = "parent") -> UUID:
    """The user id ``name`` denotes; ``providers/me`` is the caller (``Unauthenticated``
    without an access token).  ``InvalidField`` (at ``field``, NAME_INVALID) unless
    ``providers/me`` or ``providers/{uuid}``."""
    shape = "providers/me or providers/{uuid}"
    if not name.startswith(_PROVIDERS):
        raise InvalidField(field, f"must be {shape}", reason=CatalogReason.NAME_INVALID)
    rest = name.removeprefix(_PROVIDERS)
    if rest == _ME:
        return _uuid(require_principal().subject, field, shape)
    return _uuid(rest, field, shape)


def parse_provider_offering_name(name: str, *, field: str = "name") -> tuple[UUID, UUID]:
    """``(provider id, offering id)`` of ``providers/{me|uuid}/offerings/{uuid}``;
    ``InvalidField`` (at ``field``, NAME_INVALID) for anything else."""
    provider, sep, offering = name.rpartition("/offerings/")
    if not sep:
        raise InvalidField(
            field,
            "must be providers/{me|uuid}/offerings/{uuid}",
            reason=CatalogReason.NAME_INVALID,
        )
    return (
        parse_provider_name(provider, field=field),
        _uuid(offering, field, "providers/{me|uuid}/offerings/{uuid}"),
    )


def offering_to_proto(offering: Offering) -> offerings_pb2.Offering:
    """The ``agora.catalog.v1.Offering`` of ``offering``."""
    return offerings_pb2.Offering(
        name=offering_name(offering.id),
        title=offering.title,
        description=offering.description,
        create_time=timestamp_to_proto(offering.create_time),
        update_time=timestamp_to_proto(offering.update_time),
        etag=offering.etag,
    )


def provider_offering_to_proto(link: ProviderOffering) -> offerings_pb2.ProviderOffering:
    """The ``agora.catalog.v1.ProviderOffering`` of ``link``."""
    provider = provider_name(link.provider_id)
    return offerings_pb2.ProviderOffering(
        name=f"{provider}/offerings/{link.offering_id}",
        offering=offering_name(link.offering_id),
        provider=provider,
        create_time=timestamp_to_proto(link.create_time),
    )


def _caller() -> UUID:
    """The caller's user id (the access token's subject)."""
    return _uuid(require_principal().subject, "parent", "a user id")


class OfferingServicer(offerings_pb2_grpc.OfferingServiceServicer):
    """``agora.catalog.v1.OfferingService``: offerings and providers' links to them."""

    def __init__(self, offerings: Offerings) -> None:
        self._offerings = offerings

    async def CreateOffering(
        self, request: offerings_pb2.CreateOfferingRequest, context: grpc.aio.ServicerContext
    ) -> offerings_pb2.Offering:
        """Idempotent per (token subject, request_id); INVALID_ARGUMENT (field violations,
        IDEMPOTENCY_KEY_REUSED)."""
        principal = require_principal()
        with request_fields(_FIELDS):
            offering = await self._offerings.create_offering(
                title=request.offering.title,
                description=request.offering.description,
                request_id=parse_request_id(request.request_id),
                scope=principal.subject,
            )
        return offering_to_proto(offering)

    async def GetOffering(
        self, request: offerings_pb2.GetOfferingRequest, context: grpc.aio.ServicerContext
    ) -> offerings_pb2.Offering:
        """NOT_FOUND (OFFERING_NOT_FOUND) when there is no such offering."""
        offering = await self._offerings.get_offering(parse_offering_name(request.name))
        return offering_to_proto(offering)

    async def ListOfferings(
        self, request: offerings_pb2.ListOfferingsRequest, context: grpc.aio.ServicerContext
    ) -> offerings_pb2.ListOfferingsResponse:
        """By title then id; INVALID_ARGUMENT for a bad filter or page_token."""
        page, token = await self._offerings.list_offerings(
            ListRequest(
                filter=request.filter, page_size=request.page_size, page_token=request.page_token
            )
        )
        return offerings_pb2.ListOfferingsResponse(
            offerings=[offering_to_proto(item) for item in page], next_page_token=token
        )

    async def UpdateOffering(
        self, request: offerings_pb2.UpdateOfferingRequest, context: grpc.aio.ServicerContext
    ) -> offerings_pb2.Offering:
        """ABORTED (ETAG_MISMATCH), INVALID_ARGUMENT (update_mask, offering.title,
        offering.description), NOT_FOUND."""
        offering_id = parse_offering_name(request.offering.name, field="offering.name")
        with request_fields(_FIELDS):
            offering = await self._offerings.update_offering(
                offering_id,
                fields=list(request.update_mask.paths),
                title=request.offering.title,
                description=request.offering.description,
                etag=request.offering.etag or None,
            )
        return offering_to_proto(offering)

    async def DeleteOffering(
        self, request: offerings_pb2.DeleteOfferingRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """NOT_FOUND, ABORTED (ETAG_MISMATCH); the offering's links go with it."""
        await self._offerings.delete_offering(
            parse_offering_name(request.name), etag=request.etag or None
        )
        return empty_pb2.Empty()

    async def CreateProviderOffering(
        self,
        request: offerings_pb2.CreateProviderOfferingRequest,
        context: grpc.aio.ServicerContext,
    ) -> offerings_pb2.ProviderOffering:
        """PERMISSION_DENIED (PROVIDER_NOT_CALLER) for another provider's profile,
        PERMISSION_DENIED (ACCOUNT_DISABLED) for a disabled account, UNAVAILABLE
        (USER_UNAVAILABLE) while the user service cannot tell, NOT_FOUND
        (OFFERING_NOT_FOUND); the existing link when added twice."""
        caller = _caller()
        link = await self._offerings.add_to_profile(
            parse_provider_name(request.parent),
            parse_offering_name(
                request.provider_offering.offering, field="provider_offering.offering"
            ),
            caller=caller,
        )
        return provider_offering_to_proto(link)

    async def DeleteProviderOffering(
        self,
        request: offerings_pb2.DeleteProviderOfferingRequest,
        context: grpc.aio.ServicerContext,
    ) -> empty_pb2.Empty:
        """PERMISSION_DENIED (PROVIDER_NOT_CALLER, ACCOUNT_DISABLED), UNAVAILABLE
        (USER_UNAVAILABLE), NOT_FOUND (PROVIDER_OFFERING_NOT_FOUND)."""
        caller = _caller()
        provider_id, offering_id = parse_provider_offering_name(request.name)
        await self._offerings.remove_from_profile(provider_id, offering_id, caller=caller)
        return empty_pb2.Empty()

    async def ListProviderOfferings(
        self,
        request: offerings_pb2.ListProviderOfferingsRequest,
        context: grpc.aio.ServicerContext,
    ) -> offerings_pb2.ListProviderOfferingsResponse:
        """Oldest link first; UNAUTHENTICATED for ``providers/me`` without a token."""
        page, token = await self._offerings.list_of_provider(
            parse_provider_name(request.parent),
            ListRequest(page_size=request.page_size, page_token=request.page_token),
        )
        return offerings_pb2.ListProviderOfferingsResponse(
            provider_offerings=[provider_offering_to_proto(item) for item in page],
            next_page_token=token,
        )

    async def ListOfferingProviders(
        self,
        request: offerings_pb2.ListOfferingProvidersRequest,
        context: grpc.aio.ServicerContext,
    ) -> offerings_pb2.ListOfferingProvidersResponse:
        """Oldest link first; NOT_FOUND (OFFERING_NOT_FOUND)."""
        page, token = await self._offerings.list_of_offering(
            parse_offering_name(request.offering, field="offering"),
            ListRequest(page_size=request.page_size, page_token=request.page_token),
        )
        return offerings_pb2.ListOfferingProvidersResponse(
            provider_offerings=[provider_offering_to_proto(item) for item in page],
            next_page_token=token,
        )
