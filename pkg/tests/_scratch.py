"""A scratch database for ``pkg`` tests that need tables of their own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import MetaData

from pkg.config import normalise_database_url
from pkg.db import create_engine


@asynccontextmanager
async def scratch_database(server_url: str, prefix: str, metadata: MetaData) -> AsyncIterator[str]:
    """A fresh database ``<prefix>_<12 hex digits>`` on the server of ``server_url`` with
    ``metadata``'s tables; yields its ``postgresql+psycopg://`` URL and drops it (closing
    any connection left) on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    server = normalise_database_url(server_url).replace("postgresql+psycopg", "postgresql")
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as connection:
        await connection.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    url = normalise_database_url(urlsplit(server)._replace(path=f"/{name}").geturl())
    try:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        await engine.dispose()
        yield url
    finally:
        async with await psycopg.AsyncConnection.connect(server, autocommit=True) as connection:
            await connection.execute(f"DROP DATABASE {name} WITH (FORCE)")  # type: ignore[arg-type]
