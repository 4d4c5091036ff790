"""Use cases on products: create (idempotent per request id), get, list, update."""

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
from services.catalog.domain import EtagMismatch, Product, ProductNotFound, parse_display_name
from services.catalog.service.ports import Accounts, CatalogQueries, CatalogUnitOfWork

UPDATABLE_FIELDS = frozenset({"display_name"})
"""The fields UpdateProduct's mask may name (AIP-134)."""


@dataclass(frozen=True)
class ProductPage:
    """One page of ``ListProducts``: the products and the token of the next page
    (empty on the last)."""

    products: list[Product]
    next_page_token: str


class Products:
    """Use cases on products.

    ``products`` reads outside a transaction; ``units`` makes one unit of work per
    write (``pkg.uow``: the write and its events commit together); ``accounts`` says
    whether a caller's account is active (the user service); ``clock``
    (``pkg.clock.Clock``) stamps products and idempotency keys, which are kept ``key_ttl``.
    """

    def __init__(
        self,
        products: CatalogQueries,
        units: Callable[[], CatalogUnitOfWork],
        accounts: Accounts,
        *,
        clock: Clock = utcnow,
        key_ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._products = products
        self._units = units
        self._accounts = accounts
        self._clock = clock
        self._key_ttl = key_ttl

    async def create_product(
        self, *, display_name: str, request_id: UUID | None = None, scope: str = ""
    ) -> Product:
        """Create a product; idempotent per ``(scope, request_id)`` (AIP-155,
        ``pkg.idempotency``).

        ``scope`` is the caller (the access token's subject), whose account must be
        active (``Accounts.require_active``: ``AccountDisabled``, or ``Unavailable`` while
        the user service cannot tell; nothing is written or replayed then).  The same key
        with the same request (normalised display name) returns the product it created;
        with another request it raises ``IdempotencyKeyReused`` (INVALID_ARGUMENT).
        Records ``ProductCreated``.  Raises ``InvalidField`` (``display_name``).
        """
        name = parse_display_name(display_name)
        await self._accounts.require_active(scope)
        instant = self._clock()
        product = Product.create(id=uuid4(), display_name=name, now=instant)
        key = None
        if request_id is not None:
            key = IdempotencyKey.new(
                scope=scope,
                request_id=str(request_id),
                resource_id=str(product.id),
                now=instant,
                ttl=self._key_ttl,
                fingerprint=fingerprint({"display_name": name}),
            )
            held = await self._products.get_idempotency_key(scope, key.request_id)
            if decide(held, key.fingerprint, instant) in (Decision.REPLAY, Decision.REUSED):
                return await self._replay(held, key)
        async with self._units() as uow:
            held = await uow.repositories.products.add(product, key=key)
            if held is None:
                await uow.commit()
        if key is not None and held is not None:
            return await self._replay(held, key)
        return product

    async def update_product(
        self,
        product_id: UUID,
        *,
        display_name: str,
        fields: Collection[str],
        etag: str | None = None,
    ) -> Product:
        """Change the named ``fields`` (AIP-134; ``UPDATABLE_FIELDS``) of ``product_id``.

        ``etag`` (AIP-154), when given, must be the product's current one; its row is
        locked while it changes, so concurrent updates apply one after the other.  Records
        ``ProductUpdated``.  Raises ``InvalidField`` (``update_mask``, ``display_name``),
        ``ProductNotFound`` and ``EtagMismatch`` (ABORTED).
        """
        named = update_mask_fields(fields, UPDATABLE_FIELDS)
        name = parse_display_name(display_name) if "display_name" in named else ""
        async with self._units() as uow:
            current = await uow.repositories.products.get_for_update(product_id)
            if current is None:
                raise ProductNotFound(product_id)
            if etag and etag != current.etag:
                raise EtagMismatch(current.etag)
            changed = current.updated(named, self._clock(), display_name=name)
            await uow.repositories.products.save(changed)
            await uow.commit()
        return changed

    async def get_product(self, product_id: UUID) -> Product:
        """The product with ``product_id``; ``ProductNotFound`` when there is none."""
        product = await self._products.get(product_id)
        if product is None:
            raise ProductNotFound(product_id)
        return product

    async def list_products(self, *, requested_size: int = 0, page_token: str = "") -> ProductPage:
        """A page of products, newest first (AIP-158 keyset pagination).

        Raises ``InvalidField`` (``page_size``, ``page_token``).
        """
        size = page_size(requested_size)
        after = decode_page_token(page_token, listing="ListProducts") if page_token else None
        found = await self._products.list_newest(size + 1, after)
        return ProductPage(*cut_page(found, size, _cursor))

    async def _replay(self, held: IdempotencyKey | None, key: IdempotencyKey) -> Product:
        """The product ``held`` created if ``key`` is the same request;
        ``IdempotencyKeyReused`` otherwise."""
        if held is not None and decide(held, key.fingerprint, key.create_time) is Decision.REPLAY:
            product = await self._products.get(UUID(held.resource_id))
            if product is not None:
                return product
        raise IdempotencyKeyReused()


def _cursor(product: Product) -> PageCursor:
    return PageCursor(product.create_time, product.id)
