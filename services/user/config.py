"""Settings of the user service (pydantic-settings, prefix ``AGORA_USER_``).

``AGORA_USER_LISTEN``, ``AGORA_USER_DATABASE_URL`` (normalised to ``postgresql+psycopg://``),
the pool size and the database timeouts (``pkg.config.DatabaseSettingsMixin``:
``AGORA_USER_DATABASE_CONNECT_TIMEOUT_SECONDS``, ``..._STATEMENT_TIMEOUT_SECONDS``,
``..._POOL_TIMEOUT_SECONDS``, and ``AGORA_USER_DATABASE_TIMEOUT_SECONDS`` for a whole
transaction; see ``pkg.db``), the
argon2id parameters, whose defaults are the OWASP Password Storage Cheat Sheet's minimum
(19 MiB, 2 iterations, parallelism 1), and ``AGORA_USER_IDEMPOTENCY_KEY_TTL_SECONDS``
(CreateUser keys, 24 h; ADR 0012), and ``AGORA_USER_REDIS_URL`` with its timeouts
(``pkg.config.RedisSettingsMixin``), where the outbox relay publishes the user events.
Built by ``__main__``, never at import time.
"""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pkg.config import DatabaseSettingsMixin, RedisSettingsMixin, ServiceSettings
from pkg.idempotency import DEFAULT_TTL
from services.user.adapters.hashing import (
    OWASP_MEMORY_COST_KIB,
    OWASP_PARALLELISM,
    OWASP_TIME_COST,
)


class UserSettings(ServiceSettings, DatabaseSettingsMixin, RedisSettingsMixin):
    """The user service's settings; see docs/architecture.md for the shared ones."""

    model_config = SettingsConfigDict(env_prefix="AGORA_USER_", extra="ignore")

    listen: str = Field(default="127.0.0.1:50052", description="gRPC listen host:port")
    database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:54329/agora_user",
        description="the service's own database",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:63790/0", description="where the relay publishes the user events"
    )
    jwks_cache_file: str = Field(
        default="",
        description="where the last good JWKS of auth is kept across restarts (empty: nowhere)",
    )
    argon2_memory_cost_kib: int = Field(
        default=OWASP_MEMORY_COST_KIB, ge=8, description="argon2id memory per hash, KiB"
    )
    argon2_time_cost: int = Field(default=OWASP_TIME_COST, ge=1, description="argon2id iterations")
    argon2_parallelism: int = Field(default=OWASP_PARALLELISM, ge=1, description="argon2id lanes")
    idempotency_key_ttl_seconds: float = Field(
        default=DEFAULT_TTL.total_seconds(),
        gt=0,
        description="how long a CreateUser request_id is remembered, seconds",
    )
    hash_workers: int = Field(
        default_factory=lambda: min(4, os.cpu_count() or 1),
        ge=1,
        description="threads hashing passwords at once",
    )
