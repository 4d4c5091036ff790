"""In-memory fakes of the catalog service's ports (same Protocols as the real adapters)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pkg.idempotency import IdempotencyKey
from pkg.testing import FakeUnitOfWork
from pkg.uow import Aggregate
from services.catalog.domain import AccountDisabled, Product
from services.catalog.entrypoints.grpc.mappers import event_to_message
from services.catalog.service import CatalogRepositories, PageCursor


class FakeProductRepository:
    """``CatalogQueries``, ``ProductRepository`` and ``StatisticsRepository`` in dicts;
    ``adds`` counts stored products, ``created`` the counted ``ProductCreated`` events.

    ``unit`` is the ``FakeUnitOfWork`` whose repositories are this fake (``unit.committed``:
    the domain events committed, ``unit.messages`` their contract messages); ``units`` is
    the factory the use cases take.
    """

    def __init__(self) -> None:
        self.products: dict[UUID, Product] = {}
        self.keys: dict[tuple[str, str], IdempotencyKey] = {}
        self.adds = 0
        self.created = 0
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

    async def list_newest(self, limit: int, after: PageCursor | None = None) -> list[Product]:
        ordered = sorted(self.products.values(), key=lambda w: (w.create_time, w.id), reverse=True)
        if after is not None:
            ordered = [w for w in ordered if (w.create_time, w.id) < (after.create_time, after.id)]
        return ordered[:limit]

    async def count_created(self) -> None:
        self.created += 1

    async def created_count(self) -> int:
        return self.created


class _Repositories:
    """``CatalogRepositories`` of the fake unit of work: both are the one fake."""

    def __init__(self, fake: FakeProductRepository) -> None:
        self.products = fake
        self.statistics = fake


class FakeAccounts:
    """``Accounts`` in a set: the subjects in ``disabled`` are refused (``AccountDisabled``),
    every other one is active; ``asked`` lists the subjects asked about, in order."""

    def __init__(self) -> None:
        self.disabled: set[str] = set()
        self.asked: list[str] = []

    async def require_active(self, subject: str) -> None:
        self.asked.append(subject)
        if subject in self.disabled:
            raise AccountDisabled(subject)


class FakeClock:
    """A clock that advances one second per reading, from 2025-01-01T00:00:00Z."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current
