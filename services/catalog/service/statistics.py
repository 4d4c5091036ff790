"""Use cases of the product statistics: counted by the consumer of ``ProductCreated``."""

from __future__ import annotations

from collections.abc import Callable

from services.catalog.service.ports import CatalogQueries, CatalogUnitOfWork


class Statistics:
    """Keeps and reads the counts of the catalog service.

    ``queries`` reads them; ``units`` makes one unit of work per call.
    """

    def __init__(self, queries: CatalogQueries, units: Callable[[], CatalogUnitOfWork]) -> None:
        self._queries = queries
        self._units = units

    async def count_created(self, *, event_id: str) -> bool:
        """Count one created product for the event ``event_id`` (UUID text), once: the
        inbox entry and the count commit together.  ``False`` when the event was counted
        before (a redelivery)."""
        async with self._units() as uow:
            if not await uow.received(event_id):
                return False
            await uow.repositories.statistics.count_created()
            await uow.commit()
        return True

    async def created_count(self) -> int:
        """How many products were created, as far as the consumer has counted."""
        return await self._queries.created_count()
