"""Settings of the basket service (pydantic-settings, prefix ``AGORA_BASKET_``).

``AGORA_BASKET_LISTEN``, ``AGORA_BASKET_DATABASE_URL`` (normalised to
``postgresql+psycopg://``), the pool size and the database timeouts
(``pkg.config.DatabaseSettingsMixin``, ``pkg.db``), ``AGORA_BASKET_REDIS_URL`` and its
timeouts (the event stream; ``pkg.config.RedisSettingsMixin``),
``AGORA_BASKET_JWKS_CACHE_FILE`` (auth's last good JWKS, kept across
restarts; ``agora up`` sets ``<data>/basket/jwks.json``),
``AGORA_BASKET_IDEMPOTENCY_KEY_TTL_SECONDS`` (CreateBasket keys, 24 h) and
``AGORA_BASKET_USER_TIMEOUT_SECONDS`` (the deadline of calls to the user service).
Built by ``__main__``, never at import time.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pkg.config import DatabaseSettingsMixin, RedisSettingsMixin, ServiceSettings
from pkg.idempotency import DEFAULT_TTL


class BasketSettings(ServiceSettings, DatabaseSettingsMixin, RedisSettingsMixin):
    """The basket service's settings; see docs/architecture.md for the shared ones."""

    model_config = SettingsConfigDict(env_prefix="AGORA_BASKET_", extra="ignore")

    listen: str = Field(default="127.0.0.1:50054", description="gRPC listen host:port")
    database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:54329/agora_basket",
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
        description="how long a CreateBasket request_id is remembered, seconds",
    )
    user_timeout_seconds: float = Field(
        default=5.0, gt=0, description="deadline of user-service calls, seconds"
    )
