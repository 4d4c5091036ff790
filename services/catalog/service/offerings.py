"""Use cases on service offerings: admin CRUD (create idempotent per request id), and
the links providers make from their own profile to the offerings they perform."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import timedelta
from uuid import UUID, uuid4

from pkg.clock import Clock, utcnow
from pkg.fields import update_mask_fields
from pkg.idempotency import (
    DEFAULT_TTL,
    Decision,
    IdempotencyKey,
    IdempotencyKeyReused,
    decide,
    fingerprint,
)
from pkg.paging import ListRequest
from services.catalog.domain.offerings import (
    Offering,
    OfferingEtagMismatch,
    OfferingNotFound,
    ProviderNotCaller,
    ProviderOffering,
    ProviderOfferingNotFound,
    parse_offering_description,
    parse_offering_title,
)
from services.catalog.service.offering_ports import Accounts, OfferingQueries, OfferingUnitOfWork

OFFERING_FIELDS = frozenset({"title", "description"})
"""The fields UpdateOffering's mask may name (AIP-134)."""


class Offerings:
    """Use cases on offerings and provider links.

    ``queries`` reads outside a transaction; ``units`` makes one unit of work per write;
    ``accounts`` says whether a provider's account is active (the user service), asked
    before a provider changes their own profile; ``clock`` (``pkg.clock.Clock``) stamps
    offerings, links and idempotency keys, which are kept ``key_ttl``.
    """

    def __init__(
        self,
        queries: OfferingQueries,
        units: Callable[[], OfferingUnitOfWork],
        accounts: Accounts,
        *,
        clock: Clock = utcnow,
        key_ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._queries = queries
        self._units = units
        self._accounts = accounts
        self._clock = clock
        self._key_ttl = key_ttl

    async def create_offering(
        self, *, title: str, description: str, request_id: UUID | None = None, scope: str = ""
    ) -> Offering:
        """Create an offering; idempotent per ``(scope, request_id)`` (AIP-155,
        ``pkg.idempotency``): the same key with the same (normalised) title and
        description returns the offering it created, with another request it raises
        ``IdempotencyKeyReused``.  Raises ``InvalidField`` (``title``, ``description``).
        """
        offering = Offering.create(
            id=uuid4(),
            title=parse_offering_title(title),
            description=parse_offering_description(description),
            now=self._clock(),
        )
        key = None
        if request_id is not None:
            key = IdempotencyKey.new(
                scope=scope,
                request_id=str(request_id),
                resource_id=str(offering.id),
                now=offering.create_time,
                ttl=self._key_ttl,
                fingerprint=fingerprint(
                    {"title": offering.title, "description": offering.description}
                ),
            )
            held = await self._queries.get_idempotency_key(scope, key.request_id)
            if decide(held, key.fingerprint, key.create_time) in (
                Decision.REPLAY,
                Decision.REUSED,
            ):
                return await self._replay(held, key)
        async with self._units() as uow:
            held = await uow.repositories.offerings.add(offering, key=key)
            if held is None:
                await uow.commit()
        if key is not None and held is not None:
            return await self._replay(held, key)
        return offering

    async def get_offering(self, offering_id: UUID) -> Offering:
        """The offering with ``offering_id``; ``OfferingNotFound`` when there is none."""
        offering = await self._queries.get(offering_id)
        if offering is None:
            raise OfferingNotFound(offering_id)
        return offering

    async def list_offerings(self, request: ListRequest) -> tuple[list[Offering], str]:
        """A page of offerings by title, then id, and the next page token ("" on the last).
        Raises ``InvalidField`` (``filter``, ``page_size``, ``page_token``)."""
        return await self._queries.list_offerings(request)

    async def update_offering(
        self,
        offering_id: UUID,
        *,
        fields: Collection[str],
        title: str = "",
        description: str = "",
        etag: str | None = None,
    ) -> Offering:
        """Change the named ``fields`` (AIP-134; ``OFFERING_FIELDS``) of ``offering_id``;
        ``etag`` (AIP-154), when given, must be current.  Concurrent updates of one
        offering apply one after the other (row lock).  Raises ``InvalidField``
        (``update_mask``, ``title``, ``description``), ``OfferingNotFound`` and
        ``OfferingEtagMismatch`` (ABORTED)."""
        named = update_mask_fields(fields, OFFERING_FIELDS)
        new_title = parse_offering_title(title) if "title" in named else ""
        new_description = parse_offering_description(description) if "description" in named else ""
        async with self._units() as uow:
            current = await uow.repositories.offerings.get_for_update(offering_id)
            if current is None:
                raise OfferingNotFound(offering_id)
            if etag and etag != current.etag:
                raise OfferingEtagMismatch(current.etag)
            changed = current.updated(
                named, self._clock(), title=new_title, description=new_description
            )
            await uow.repositories.offerings.save(changed)
            await uow.commit()
        return changed

    async def delete_offering(self, offering_id: UUID, *, etag: str | None = None) -> None:
        """Delete ``offering_id`` and every provider's link to it (AIP-135).  Raises
        ``OfferingNotFound`` and ``OfferingEtagMismatch`` (a stale ``etag``)."""
        async with self._units() as uow:
            current = await uow.repositories.offerings.get_for_update(offering_id)
            if current is None:
                raise OfferingNotFound(offering_id)
            if etag and etag != current.etag:
                raise OfferingEtagMismatch(current.etag)
            await uow.repositories.offerings.delete(offering_id)
            await uow.commit()

    async def add_to_profile(
        self, provider_id: UUID, offering_id: UUID, *, caller: UUID
    ) -> ProviderOffering:
        """Link ``offering_id`` to ``provider_id``'s profile; the existing link when there
        is one.  ``caller`` (the token's subject, who holds the ``provider`` role) must be
        ``provider_id``: else ``ProviderNotCaller``; and their account must be active
        (``Accounts.require_active``: ``AccountDisabled``, or ``Unavailable`` while the user
        service cannot tell; nothing is written then).  Raises ``OfferingNotFound``."""
        if provider_id != caller:
            raise ProviderNotCaller(provider_id)
        await self._accounts.require_active(caller)
        async with self._units() as uow:
            if await uow.repositories.offerings.get_for_update(offering_id) is None:
                raise OfferingNotFound(offering_id)
            link = await uow.repositories.offerings.link(
                ProviderOffering(provider_id, offering_id, self._clock())
            )
            await uow.commit()
        return link

    async def remove_from_profile(
        self, provider_id: UUID, offering_id: UUID, *, caller: UUID
    ) -> None:
        """Remove ``offering_id`` from ``provider_id``'s profile.  Raises
        ``ProviderNotCaller`` (``caller`` is someone else), ``AccountDisabled`` or
        ``Unavailable`` (as ``add_to_profile``; nothing is removed then) and
        ``ProviderOfferingNotFound``."""
        if provider_id != caller:
            raise ProviderNotCaller(provider_id)
        await self._accounts.require_active(caller)
        async with self._units() as uow:
            if not await uow.repositories.offerings.unlink(provider_id, offering_id):
                raise ProviderOfferingNotFound(provider_id, offering_id)
            await uow.commit()

    async def list_of_provider(
        self, provider_id: UUID, request: ListRequest
    ) -> tuple[list[ProviderOffering], str]:
        """A page of the offerings on ``provider_id``'s profile, oldest link first (an
        unknown provider has none).  Raises ``InvalidField`` (``page_size``,
        ``page_token``)."""
        return await self._queries.list_of_provider(provider_id, request)

    async def list_of_offering(
        self, offering_id: UUID, request: ListRequest
    ) -> tuple[list[ProviderOffering], str]:
        """A page of the providers of ``offering_id``, oldest link first.  Raises
        ``OfferingNotFound`` and ``InvalidField`` (``page_size``, ``page_token``)."""
        if await self._queries.get(offering_id) is None:
            raise OfferingNotFound(offering_id)
        return await self._queries.list_of_offering(offering_id, request)

    async def _replay(self, held: IdempotencyKey | None, key: IdempotencyKey) -> Offering:
        """The offering ``held`` created if ``key`` is the same request;
        ``IdempotencyKeyReused`` otherwise."""
        if held is not None and decide(held, key.fingerprint, key.create_time) is Decision.REPLAY:
            offering = await self._queries.get(UUID(held.resource_id))
            if offering is not None:
                return offering
        raise IdempotencyKeyReused()
