"""A sweeper in its own process, for the two-process expiry test: expires due reservations
of the database given as argv[1], one per transaction, until none is due, then prints how
many it expired.  Run as ``python -m services.catalog.tests.integration.sweeper_child URL``."""

from __future__ import annotations

import asyncio
import sys

from pkg.db import create_engine, session_factory
from services.catalog.adapters.stock import SqlReservationQueries
from services.catalog.app import stock_units
from services.catalog.service.stock import Stock


async def _main(url: str) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        sessions = session_factory(engine)
        stock = Stock(SqlReservationQueries(sessions), stock_units(sessions))
        total = 0
        for _ in range(10_000):  # bounded; stops at the first empty sweep
            expired = await stock.expire_due(limit=1)
            if not expired:
                break
            total += expired
        return total
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(asyncio.run(_main(sys.argv[1])))
