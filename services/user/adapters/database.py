"""The async engine (connection pool) and the database health probe."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from pkg.server import Probe


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 5) -> AsyncEngine:
    """An ``AsyncEngine`` for ``url`` (``postgresql+psycopg://``); connects lazily.

    The pool keeps up to ``pool_size`` connections plus ``max_overflow`` temporary ones and
    checks a connection before handing it out, so a restarted server costs no failed RPC.
    The caller disposes of the engine.
    """
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                               pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def database_probe(engine: AsyncEngine) -> Probe:
    """A health probe: ``True`` when the database answers ``SELECT 1``."""

    async def probe() -> bool:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    return probe
