"""Use cases on products: create (idempotent per request id), get, list, batch get,
update, activate and archive."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from pkg.paging import ListRequest
from services.catalog.domain import (
    UPDATABLE_FIELDS,
    EtagMismatch,
    Product,
    ProductFields,
    ProductNotFound,
)
from services.catalog.service.ports import CatalogQueries, CatalogUnitOfWork


@dataclass(frozen=True)
class ProductPage:
    """One page of ``ListProducts``: the products and the token of the next page
    (empty on the last)."""

    products: list[Product]
    next_page_token: str


class Products:
    """Use cases on products.

    ``products`` reads outside a transaction; ``units`` makes one unit of work per
    write (``pkg.uow``: the write and its events commit together); ``clock``
    (``pkg.clock.Clock``) stamps products and idempotency keys, which are kept ``key_ttl``.
    ``admin`` arguments say whether the caller holds the admin role: everyone else sees
    ACTIVE products only.
    """

    def __init__(
        self,
        products: CatalogQueries,
        units: Callable[[], CatalogUnitOfWork],
        *,
        clock: Clock = utcnow,
        key_ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._products = products
        self._units = units
        self._clock = clock
        self._key_ttl = key_ttl

    async def create_product(
        self, fields: ProductFields, *, request_id: UUID | None = None, scope: str = ""
    ) -> Product:
        """Create a DRAFT product; idempotent per ``(scope, request_id)`` (AIP-155,
        ``pkg.idempotency``), ``scope`` being the caller (the access token's subject).

        The same key with the same (normalised) fields returns the product it created;
        with other fields it raises ``IdempotencyKeyReused`` (INVALID_ARGUMENT).  Records
        ``ProductCreated``.
        """
        instant = self._clock()
        product = Product.create(id=uuid4(), fields=fields, now=instant)
        key = None
        if request_id is not None:
            key = IdempotencyKey.new(
                scope=scope,
                request_id=str(request_id),
                resource_id=str(product.id),
                now=instant,
                ttl=self._key_ttl,
                fingerprint=_fingerprint(fields),
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

    async def get_product(self, product_id: UUID, *, admin: bool) -> Product:
        """The product with ``product_id``; ``ProductNotFound`` when there is none, or
        when it is not ACTIVE and the caller is no admin."""
        product = await self._products.get(product_id)
        if product is None or not (admin or product.visible_to_customers):
            raise ProductNotFound(product_id)
        return product

    async def list_products(self, request: ListRequest, *, admin: bool) -> ProductPage:
        """A page of products (AIP-132, AIP-160 filter, AIP-158 keyset pages); see
        ``CatalogQueries.list_products`` for the fields and the errors."""
        products, token = await self._products.list_products(request, admin=admin)
        return ProductPage(products, token)

    async def batch_get_products(self, product_ids: Sequence[UUID]) -> list[Product]:
        """The products of ``product_ids`` that exist, in any state, in the order asked
        (AIP-231; unknown ids are left out)."""
        found = {product.id: product for product in await self._products.get_many(product_ids)}
        return [found[product_id] for product_id in product_ids if product_id in found]

    async def update_product(
        self, product_id: UUID, changes: Mapping[str, object], *, etag: str | None = None
    ) -> Product:
        """Apply ``changes`` (field -> new value; the fields an UpdateProduct mask named,
        AIP-134, each checked by the domain's ``parse_*``) to ``product_id``.

        ``etag`` (AIP-154), when given, must be the product's current one; its row is
        locked while it changes, so concurrent updates apply one after the other.  A new
        price records ``ProductPriceChanged``.  Raises ``InvalidField`` (``update_mask``:
        empty or naming a field outside ``UPDATABLE_FIELDS``), ``ProductNotFound`` and
        ``EtagMismatch`` (ABORTED).
        """
        update_mask_fields(list(changes), UPDATABLE_FIELDS)
        async with self._units() as uow:
            current = await self._locked(uow, product_id, etag)
            changed = current.updated(changes, self._clock())
            await uow.repositories.products.save(changed)
            await uow.commit()
        return changed

    async def activate_product(self, product_id: UUID, *, etag: str | None = None) -> Product:
        """Make a DRAFT product ACTIVE (an ACTIVE one stays as it is).  Raises
        ``ProductNotFound``, ``EtagMismatch`` and ``StateTransitionInvalid`` (archived)."""
        async with self._units() as uow:
            current = await self._locked(uow, product_id, etag)
            changed = current.activated(self._clock())
            if changed is not current:
                await uow.repositories.products.save(changed)
                await uow.commit()
        return changed

    async def archive_product(self, product_id: UUID, *, etag: str | None = None) -> Product:
        """Archive a product, recording ``ProductArchived``; archiving twice changes
        nothing.  Raises ``ProductNotFound`` and ``EtagMismatch``."""
        async with self._units() as uow:
            current = await self._locked(uow, product_id, etag)
            changed = current.archived(self._clock())
            if changed is not current:
                await uow.repositories.products.save(changed)
                await uow.commit()
        return changed

    async def _locked(self, uow: CatalogUnitOfWork, product_id: UUID, etag: str | None) -> Product:
        current = await uow.repositories.products.get_for_update(product_id)
        if current is None:
            raise ProductNotFound(product_id)
        if etag and etag != current.etag:
            raise EtagMismatch(current.etag)
        return current

    async def _replay(self, held: IdempotencyKey | None, key: IdempotencyKey) -> Product:
        """The product ``held`` created if ``key`` is the same request;
        ``IdempotencyKeyReused`` otherwise."""
        if held is not None and decide(held, key.fingerprint, key.create_time) is Decision.REPLAY:
            product = await self._products.get(UUID(held.resource_id))
            if product is not None:
                return product
        raise IdempotencyKeyReused()


def _fingerprint(fields: ProductFields) -> str:
    return fingerprint(
        {
            "title": fields.title,
            "description": fields.description,
            "price": str(fields.price),
            "stock_quantity": fields.stock_quantity,
            "categories": list(fields.categories),
        }
    )
