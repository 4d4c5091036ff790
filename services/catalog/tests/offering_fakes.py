"""In-memory fakes of the offering ports (the same Protocols as ``adapters.offerings`` and
``adapters.accounts``)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from agora.catalog.v1.reasons import CatalogReason
from pkg.errors import Unavailable
from pkg.filtering import ListRequest
from pkg.idempotency import IdempotencyKey
from pkg.testing import FakeUnitOfWork
from pkg.uow import Aggregate
from services.catalog.domain import AccountDisabled
from services.catalog.domain.offerings import Offering, ProviderOffering
from services.catalog.entrypoints.grpc.mappers import event_to_message
from services.catalog.service.offering_ports import OfferingRepositories


class FakeOfferings:
    """``OfferingQueries`` and ``OfferingRepository`` in dicts.  Listings return every
    match in one page, in the adapter's order (no filter, no page tokens).  ``unit`` is
    the one ``FakeUnitOfWork`` (``unit.commits``), ``units`` its factory."""

    def __init__(self) -> None:
        self.offerings: dict[UUID, Offering] = {}
        self.keys: dict[tuple[str, str], IdempotencyKey] = {}
        self.links: dict[tuple[UUID, UUID], ProviderOffering] = {}
        self.unit: FakeUnitOfWork[OfferingRepositories] = FakeUnitOfWork(
            self._repositories, mapper=event_to_message
        )

    def _repositories(self, seen: Callable[[Aggregate], None]) -> OfferingRepositories:
        return _Repositories(self)

    def units(self) -> FakeUnitOfWork[OfferingRepositories]:
        """The one fake unit of work."""
        return self.unit

    async def get(self, offering_id: UUID) -> Offering | None:
        return self.offerings.get(offering_id)

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        return self.keys.get((scope, request_id))

    async def list_offerings(self, request: ListRequest) -> tuple[list[Offering], str]:
        return sorted(self.offerings.values(), key=lambda o: (o.title, o.id)), ""

    async def list_of_provider(
        self, provider_id: UUID, request: ListRequest
    ) -> tuple[list[ProviderOffering], str]:
        found = [link for link in self.links.values() if link.provider_id == provider_id]
        return sorted(found, key=lambda link: (link.create_time, link.offering_id)), ""

    async def list_of_offering(
        self, offering_id: UUID, request: ListRequest
    ) -> tuple[list[ProviderOffering], str]:
        found = [link for link in self.links.values() if link.offering_id == offering_id]
        return sorted(found, key=lambda link: (link.create_time, link.provider_id)), ""

    async def add(
        self, offering: Offering, *, key: IdempotencyKey | None = None
    ) -> IdempotencyKey | None:
        if key is not None:
            held = self.keys.get((key.scope, key.request_id))
            if held is not None and not held.expired(key.create_time):
                return held
            self.keys[(key.scope, key.request_id)] = key
        self.offerings[offering.id] = offering
        return None

    async def get_for_update(self, offering_id: UUID) -> Offering | None:
        return self.offerings.get(offering_id)

    async def save(self, offering: Offering) -> None:
        self.offerings[offering.id] = offering

    async def delete(self, offering_id: UUID) -> None:
        del self.offerings[offering_id]
        self.links = {pair: v for pair, v in self.links.items() if pair[1] != offering_id}

    async def link(self, link: ProviderOffering) -> ProviderOffering:
        return self.links.setdefault((link.provider_id, link.offering_id), link)

    async def unlink(self, provider_id: UUID, offering_id: UUID) -> bool:
        return self.links.pop((provider_id, offering_id), None) is not None


class _Repositories:
    def __init__(self, fake: FakeOfferings) -> None:
        self.offerings = fake


class FakeAccounts:
    """``Accounts`` in a set: the users in ``disabled`` are refused (``AccountDisabled``),
    every other one is active; while ``up`` is false every question is ``Unavailable``
    (``USER_UNAVAILABLE``, as ``GrpcAccounts`` with the user service down).  ``asked``
    lists the users asked about, in order."""

    def __init__(self) -> None:
        self.disabled: set[UUID] = set()
        self.up = True
        self.asked: list[UUID] = []

    async def require_active(self, user_id: UUID) -> None:
        self.asked.append(user_id)
        if not self.up:
            raise Unavailable(
                "the user service is unavailable; try again",
                reason=CatalogReason.USER_UNAVAILABLE,
            )
        if user_id in self.disabled:
            raise AccountDisabled(user_id)
