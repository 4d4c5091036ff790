"""Use cases of the basket statistics: counted by the consumer of ``BasketCreated``."""

from __future__ import annotations

from collections.abc import Callable

from services.basket.service.ports import BasketQueries, BasketUnitOfWork


class Statistics:
    """Keeps and reads the counts of the basket service.

    ``queries`` reads them; ``units`` makes one unit of work per call.
    """

    def __init__(self, queries: BasketQueries, units: Callable[[], BasketUnitOfWork]) -> None:
        self._queries = queries
        self._units = units

    async def count_created(self, *, event_id: str) -> bool:
        """Count one created basket for the event ``event_id`` (UUID text), once: the
        inbox entry and the count commit together.  ``False`` when the event was counted
        before (a redelivery)."""
        async with self._units() as uow:
            if not await uow.received(event_id):
                return False
            await uow.repositories.statistics.count_created()
            await uow.commit()
        return True

    async def created_count(self) -> int:
        """How many baskets were created, as far as the consumer has counted."""
        return await self._queries.created_count()
