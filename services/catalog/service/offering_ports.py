"""Ports of the offering use cases, declared by their consumer (``service.offerings``).

``Accounts`` is the user service's answer to whether a provider's account is active.

Listings take a ``pkg.paging.ListRequest`` and return a page and the next page token:
the adapter owns the filter schema and the keyset order (AIP-158), and raises
``InvalidField`` (``filter``, ``page_size``, ``page_token``) before any SQL runs.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pkg.idempotency import IdempotencyKey
from pkg.paging import ListRequest
from pkg.uow import UnitOfWork
from services.catalog.domain.offerings import Offering, ProviderOffering


class Accounts(Protocol):
    """The providers' accounts, as the user service keeps them (a client adapter's port)."""

    async def require_active(self, user_id: UUID) -> None:
        """Return if the account of ``user_id`` (the access token's subject) is active now;
        raise ``AccountDisabled`` (PERMISSION_DENIED) if an admin disabled it or the user
        service does not know it, and ``pkg.errors.Unavailable`` (reason
        ``USER_UNAVAILABLE``) while the user service cannot tell.  Asked on every call,
        never cached: a disabled account is refused at once, though its access token lives
        on until it expires."""
        ...


class OfferingQueries(Protocol):
    """Reads of stored offerings and links outside any unit of work (committed data)."""

    async def get(self, offering_id: UUID) -> Offering | None:
        """The offering with ``offering_id``, or ``None``."""
        ...

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        """The CreateOffering key ``(scope, request_id)``, expired or not, or ``None``."""
        ...

    async def list_offerings(self, request: ListRequest) -> tuple[list[Offering], str]:
        """A page of offerings by title, then id (filter over ``title``, ``create_time``)."""
        ...

    async def list_of_provider(
        self, provider_id: UUID, request: ListRequest
    ) -> tuple[list[ProviderOffering], str]:
        """A page of ``provider_id``'s links, oldest first (then by offering id)."""
        ...

    async def list_of_offering(
        self, offering_id: UUID, request: ListRequest
    ) -> tuple[list[ProviderOffering], str]:
        """A page of the links to ``offering_id``, oldest first (then by provider id)."""
        ...


class OfferingRepository(Protocol):
    """Stored offerings and links inside the unit of work's transaction."""

    async def add(
        self, offering: Offering, *, key: IdempotencyKey | None = None
    ) -> IdempotencyKey | None:
        """Store ``offering`` and, when given, the idempotency ``key`` that created it;
        ``None`` once written.  A record of the key that expired by ``key.create_time`` is
        replaced; a live one (a concurrent create won) is returned and nothing written."""
        ...

    async def get_for_update(self, offering_id: UUID) -> Offering | None:
        """The offering, its row locked until the transaction ends, or ``None``."""
        ...

    async def save(self, offering: Offering) -> None:
        """Write ``offering``'s fields, ``update_time`` and ``version``."""
        ...

    async def delete(self, offering_id: UUID) -> None:
        """Delete the offering, its links and its idempotency keys."""
        ...

    async def link(self, link: ProviderOffering) -> ProviderOffering:
        """Store ``link`` unless its pair exists; the stored link either way.  The
        offering must exist (its row is locked by ``get_for_update`` first)."""
        ...

    async def unlink(self, provider_id: UUID, offering_id: UUID) -> bool:
        """Delete the link of the pair; whether there was one."""
        ...


class OfferingRepositories(Protocol):
    """What the offering use cases' unit of work holds."""

    @property
    def offerings(self) -> OfferingRepository:
        """The offerings and links of the open transaction."""
        ...


OfferingUnitOfWork = UnitOfWork[OfferingRepositories]
"""The unit of work the offering use cases take (``pkg.uow``)."""
