"""Settings of the catalog service (pydantic-settings, prefix ``AGORA_CATALOG_``).

``AGORA_CATALOG_LISTEN``, ``AGORA_CATALOG_DATABASE_URL`` (normalised to
``postgresql+psycopg://``), the pool size and the database timeouts
(``pkg.config.DatabaseSettingsMixin``, ``pkg.db``), ``AGORA_CATALOG_REDIS_URL`` and its
timeouts (the event stream; ``pkg.config.RedisSettingsMixin``),
``AGORA_CATALOG_JWKS_CACHE_FILE`` (auth's last good JWKS, kept across
restarts; ``agora up`` sets ``<data>/catalog/jwks.json``),
``AGORA_CATALOG_IDEMPOTENCY_KEY_TTL_SECONDS`` (CreateProduct keys, 24 h),
``AGORA_CATALOG_RESERVATION_TTL_SECONDS`` (how long a stock reservation is held, 15 min),
``AGORA_CATALOG_RESERVATION_SWEEP_INTERVAL_SECONDS`` (how often each worker looks
for expired reservations, 5 s) and ``AGORA_CATALOG_USER_TIMEOUT_SECONDS`` (the deadline of
calls to the user service, which says whether a provider's account is active, 5 s).
Built by ``__main__``, never at import time.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pkg.config import DatabaseSettingsMixin, RedisSettingsMixin, ServiceSettings
from pkg.idempotency import DEFAULT_TTL
from services.catalog.service.stock import DEFAULT_RESERVATION_TTL


class CatalogSettings(ServiceSettings, DatabaseSettingsMixin, RedisSettingsMixin):
    """The catalog service's settings; see docs/architecture.md for the shared ones."""

    model_config = SettingsConfigDict(env_prefix="AGORA_CATALOG_", extra="ignore")

    listen: str = Field(default="127.0.0.1:50053", description="gRPC listen host:port")
    database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:54329/agora_catalog",
        description="the service's own database",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:63790/0", description="the service's Redis (its event stream)"
    )
    jwks_cache_file: str = Field(
        default="",
        description="where the last good JWKS of auth is kept across restarts (empty: nowhere)",
    )
    idempotency_key_ttl_seconds: float = Field(
        default=DEFAULT_TTL.total_seconds(),
        gt=0,
        description="how long a CreateProduct request_id is remembered, seconds",
    )
    reservation_ttl_seconds: float = Field(
        default=DEFAULT_RESERVATION_TTL.total_seconds(),
        gt=0,
        description="how long a stock reservation is held unless committed or released, seconds",
    )
    reservation_sweep_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="how often each worker expires reservations past their deadline, seconds",
    )
    user_timeout_seconds: float = Field(
        default=5.0, gt=0, description="deadline of user-service calls, seconds"
    )
