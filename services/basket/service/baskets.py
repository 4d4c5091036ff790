"""Use cases on baskets: create (idempotent per request id), get, list, update."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
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
from pkg.paging import PageCursor, cut_page, decode_page_token, page_size
from services.basket.domain import Basket, BasketNotFound, EtagMismatch, parse_display_name
from services.basket.service.ports import Accounts, BasketQueries, BasketUnitOfWork

UPDATABLE_FIELDS = frozenset({"display_name"})
"""The fields UpdateBasket's mask may name (AIP-134)."""


@dataclass(frozen=True)
class BasketPage:
    """One page of ``ListBaskets``: the baskets and the token of the next page
    (empty on the last)."""

    baskets: list[Basket]
    next_page_token: str


class Baskets:
    """Use cases on baskets.

    ``baskets`` reads outside a transaction; ``units`` makes one unit of work per
    write (``pkg.uow``: the write and its events commit together); ``accounts`` says
    whether a caller's account is active (the user service); ``clock``
    (``pkg.clock.Clock``) stamps baskets and idempotency keys, which are kept ``key_ttl``.
    """

    def __init__(
        self,
        baskets: BasketQueries,
        units: Callable[[], BasketUnitOfWork],
        accounts: Accounts,
        *,
        clock: Clock = utcnow,
        key_ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._baskets = baskets
        self._units = units
        self._accounts = accounts
        self._clock = clock
        self._key_ttl = key_ttl

    async def create_basket(
        self, *, display_name: str, request_id: UUID | None = None, scope: str = ""
    ) -> Basket:
        """Create a basket; idempotent per ``(scope, request_id)`` (AIP-155,
        ``pkg.idempotency``).

        ``scope`` is the caller (the access token's subject), whose account must be
        active (``Accounts.require_active``: ``AccountDisabled``, or ``Unavailable`` while
        the user service cannot tell; nothing is written or replayed then).  The same key
        with the same request (normalised display name) returns the basket it created;
        with another request it raises ``IdempotencyKeyReused`` (INVALID_ARGUMENT).
        Records ``BasketCreated``.  Raises ``InvalidField`` (``display_name``).
        """
        name = parse_display_name(display_name)
        await self._accounts.require_active(scope)
        instant = self._clock()
        basket = Basket.create(id=uuid4(), display_name=name, now=instant)
        key = None
        if request_id is not None:
            key = IdempotencyKey.new(
                scope=scope,
                request_id=str(request_id),
                resource_id=str(basket.id),
                now=instant,
                ttl=self._key_ttl,
                fingerprint=fingerprint({"display_name": name}),
            )
            held = await self._baskets.get_idempotency_key(scope, key.request_id)
            if decide(held, key.fingerprint, instant) in (Decision.REPLAY, Decision.REUSED):
                return await self._replay(held, key)
        async with self._units() as uow:
            held = await uow.repositories.baskets.add(basket, key=key)
            if held is None:
                await uow.commit()
        if key is not None and held is not None:
            return await self._replay(held, key)
        return basket

    async def update_basket(
        self,
        basket_id: UUID,
        *,
        display_name: str,
        fields: Collection[str],
        etag: str | None = None,
    ) -> Basket:
        """Change the named ``fields`` (AIP-134; ``UPDATABLE_FIELDS``) of ``basket_id``.

        ``etag`` (AIP-154), when given, must be the basket's current one; its row is
        locked while it changes, so concurrent updates apply one after the other.  Records
        ``BasketUpdated``.  Raises ``InvalidField`` (``update_mask``, ``display_name``),
        ``BasketNotFound`` and ``EtagMismatch`` (ABORTED).
        """
        named = update_mask_fields(fields, UPDATABLE_FIELDS)
        name = parse_display_name(display_name) if "display_name" in named else ""
        async with self._units() as uow:
            current = await uow.repositories.baskets.get_for_update(basket_id)
            if current is None:
                raise BasketNotFound(basket_id)
            if etag and etag != current.etag:
                raise EtagMismatch(current.etag)
            changed = current.updated(named, self._clock(), display_name=name)
            await uow.repositories.baskets.save(changed)
            await uow.commit()
        return changed

    async def get_basket(self, basket_id: UUID) -> Basket:
        """The basket with ``basket_id``; ``BasketNotFound`` when there is none."""
        basket = await self._baskets.get(basket_id)
        if basket is None:
            raise BasketNotFound(basket_id)
        return basket

    async def list_baskets(self, *, requested_size: int = 0, page_token: str = "") -> BasketPage:
        """A page of baskets, newest first (AIP-158 keyset pagination).

        Raises ``InvalidField`` (``page_size``, ``page_token``).
        """
        size = page_size(requested_size)
        after = decode_page_token(page_token, listing="ListBaskets") if page_token else None
        found = await self._baskets.list_newest(size + 1, after)
        return BasketPage(*cut_page(found, size, _cursor))

    async def _replay(self, held: IdempotencyKey | None, key: IdempotencyKey) -> Basket:
        """The basket ``held`` created if ``key`` is the same request;
        ``IdempotencyKeyReused`` otherwise."""
        if held is not None and decide(held, key.fingerprint, key.create_time) is Decision.REPLAY:
            basket = await self._baskets.get(UUID(held.resource_id))
            if basket is not None:
                return basket
        raise IdempotencyKeyReused()


def _cursor(basket: Basket) -> PageCursor:
    return PageCursor(basket.create_time, basket.id)
