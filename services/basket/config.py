"""Settings of the basket service (pydantic-settings, prefix ``AGORA_BASKET_``).

``AGORA_BASKET_LISTEN``, ``AGORA_BASKET_REDIS_URL`` and its timeouts (the baskets and the
catalog's event stream; ``pkg.config.RedisSettingsMixin``),
``AGORA_BASKET_JWKS_CACHE_FILE`` (auth's last good JWKS, kept across restarts; ``agora up``
sets ``<data>/basket/jwks.json``), ``AGORA_BASKET_CATALOG_TIMEOUT_SECONDS`` (the deadline
of calls to the catalog) and ``AGORA_BASKET_BASKET_TTL_SECONDS`` (a basket is forgotten
that long after its last change, 30 days).  Built by ``__main__``, never at import time.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pkg.config import RedisSettingsMixin, ServiceSettings


class BasketSettings(ServiceSettings, RedisSettingsMixin):
    """The basket service's settings; see docs/architecture.md for the shared ones."""

    model_config = SettingsConfigDict(env_prefix="AGORA_BASKET_", extra="ignore")

    listen: str = Field(default="127.0.0.1:50054", description="gRPC listen host:port")
    redis_url: str = Field(
        default="redis://127.0.0.1:63790/0",
        description="the service's Redis (baskets, and the catalog's event stream)",
    )
    jwks_cache_file: str = Field(
        default="",
        description="where the last good JWKS of auth is kept across restarts (empty: nowhere)",
    )
    catalog_timeout_seconds: float = Field(
        default=2.0, gt=0, description="deadline of catalog calls, seconds"
    )
    basket_ttl_seconds: float = Field(
        default=30 * 86400.0, gt=0, description="a basket's life after its last change, seconds"
    )
