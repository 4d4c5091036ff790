"""In-memory fakes of the catalog service's ports (same Protocols as the real adapters)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pkg.filtering import ListRequest
from pkg.idempotency import IdempotencyKey
from pkg.testing import FakeUnitOfWork
from pkg.uow import Aggregate
from services.catalog.domain import Product
from services.catalog.entrypoints.grpc.mappers import event_to_message
from services.catalog.service import CatalogRepositories


class FakeProductRepository:
    """``CatalogQueries`` and ``ProductRepository`` in dicts; ``adds`` counts stored
    products.

    ``unit`` is the ``FakeUnitOfWork`` whose repositories are this fake (``unit.committed``:
    the domain events committed, ``unit.messages`` their contract messages); ``units`` is
    the factory the use cases take.
    """

    def __init__(self) -> None:
        self.products: dict[UUID, Product] = {}
        self.keys: dict[tuple[str, str], IdempotencyKey] = {}
        self.adds = 0
        self._seen: Callable[[Aggregate], None] = lambda aggregate: None
        self.unit: FakeUnitOfWork[CatalogRepositories] = FakeUnitOfWork(
            self._repositories, mapper=event_to_message
        )

    def _repositories(self, seen: Callable[[Aggregate], None]) -> CatalogRepositories:
        self._seen = seen
        return _Repositories(self)

    def units(self) -> FakeUnitOfWork[CatalogRepositories]:
        """The one fake unit of work (a factory of it, as the use cases take)."""
        return self.unit

    async def get(self, product_id: UUID) -> Product | None:
        return self.products.get(product_id)

    async def get_for_update(self, product_id: UUID) -> Product | None:
        return self.products.get(product_id)

    async def get_idempotency_key(self, scope: str, request_id: str) -> IdempotencyKey | None:
        return self.keys.get((scope, request_id))

    async def add(
        self, product: Product, *, key: IdempotencyKey | None = None
    ) -> IdempotencyKey | None:
        if key is not None:
            held = self.keys.get((key.scope, key.request_id))
            if held is not None and not held.expired(key.create_time):
                return held
            self.keys[(key.scope, key.request_id)] = key
        self.products[product.id] = product
        self.adds += 1
        self._seen(product)
        return None

    async def save(self, product: Product) -> None:
        self.products[product.id] = product
        self._seen(product)

    async def get_many(self, product_ids: Sequence[UUID]) -> list[Product]:
        return [self.products[i] for i in product_ids if i in self.products]

    async def list_products(
        self, request: ListRequest, *, admin: bool
    ) -> tuple[list[Product], str]:
        """Newest first, ACTIVE only unless ``admin``; filters, orders and page tokens are
        the SQL adapter's (tested against PostgreSQL) and refused here."""
        if request.filter or request.order_by or request.page_token:
            raise NotImplementedError("the fake lists the first page, newest first, only")
        shown = [p for p in self.products.values() if admin or p.visible_to_customers]
        ordered = sorted(shown, key=lambda p: (p.create_time, p.id), reverse=True)
        return ordered[: request.page_size or 20], ""


class _Repositories:
    """``CatalogRepositories`` of the fake unit of work: the one fake."""

    def __init__(self, fake: FakeProductRepository) -> None:
        self.products = fake


class FakeClock:
    """A clock that advances one second per reading, from 2025-01-01T00:00:00Z."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current
