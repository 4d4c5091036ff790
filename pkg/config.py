"""Typed settings shared by every service process (pydantic-settings).

``MeshSettings`` reads the ``AGORA_`` variables all services share (docs/architecture.md);
each service subclasses ``ServiceSettings`` with its own prefix (``AGORA_USER_``).
Nothing is read at import time: ``app.py`` builds the settings object.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pkg.money import currency_exponent

DEFAULT_CURRENCY = "EUR"
"""The mesh's currency unless ``AGORA_CURRENCY`` says otherwise."""


class MeshSettings(BaseSettings):
    """Settings shared across the mesh (prefix ``AGORA_``)."""

    model_config = SettingsConfigDict(env_prefix="AGORA_", extra="ignore")

    environment: str = Field(default="development", description="development | test | production")
    cert_dir: Path = Field(default=Path(".agora/certs"), description="root_ca.crt, <name>.crt/.key")
    endpoints: dict[str, str] = Field(
        default_factory=dict, description="service name -> gRPC target"
    )
    jwt_issuer: str = "https://auth.agora.local"
    jwt_audience: str = "agora"
    log_level: str = "INFO"
    log_file: str = Field(default="", description="append JSON log lines here (empty: stderr)")
    currency: str = Field(
        default=DEFAULT_CURRENCY,
        description="the one ISO 4217 currency prices and payments are in (pkg.money); "
        "amounts in any other are refused",
    )

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        currency_exponent(value)
        return value


class ServiceSettings(BaseSettings):
    """Base of per-service settings; subclasses set ``env_prefix`` (``AGORA_USER_``)."""

    model_config = SettingsConfigDict(extra="ignore")

    listen: str = Field(default="127.0.0.1:0", description="host:port of the gRPC server")
    drain_seconds: float = Field(
        default=3.0,
        ge=0,
        description="on shutdown, seconds of NOT_SERVING while still serving (longer than "
        "the edge's health-check interval x unhealthy threshold: 1 s x 2)",
    )
    grace_seconds: float = Field(
        default=5.0, ge=0, description="then, seconds calls in flight get to finish"
    )
    health_interval_seconds: float = Field(default=2.0, description="dependency probe period")


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the ``postgresql+psycopg://`` driver SQLAlchemy needs.

    Accepts ``postgres://``, ``postgresql://`` and ``postgresql+psycopg://``; raises
    ``ValueError`` for any other scheme.
    """
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('://')[0]}://...")


class DatabaseSettingsMixin(BaseSettings):
    """A service's own database: a normalised ``database_url``, the pool and the timeouts
    (seconds) that ``pkg.db.engine_from_settings`` and ``reader_from_settings`` apply.

    A service sets its own ``database_url`` default (``.../agora_<service>``); every other
    field is read from ``AGORA_<SERVICE>_DATABASE_...`` under the service's prefix.
    """

    database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        description="the service's own database",
    )
    database_pool_size: int = Field(
        default=10, ge=1, description="pooled connections of each engine (reads, writes)"
    )
    database_max_overflow: int = Field(default=5, ge=0, description="extra connections")
    database_connect_timeout_seconds: float = Field(
        default=3.0, gt=0, description="bound on opening a connection (libpq connect_timeout)"
    )
    database_statement_timeout_seconds: float = Field(
        default=5.0, gt=0, description="server-side statement_timeout of every connection"
    )
    database_pool_timeout_seconds: float = Field(
        default=3.0, gt=0, description="longest wait for a pooled connection"
    )
    database_timeout_seconds: float = Field(
        default=8.0,
        gt=0,
        description="client-side bound on one transaction (a hung server never answers)",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_database_url(value)


class RedisSettingsMixin(BaseSettings):
    """A service's Redis: ``redis_url`` and the bounds (seconds) ``pkg.redis.create_redis``
    applies; read from ``AGORA_<SERVICE>_REDIS_...`` under the service's prefix.  A service
    sets its own ``redis_url`` default."""

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="the service's Redis")
    redis_connect_timeout_seconds: float = Field(
        default=1.0, gt=0, description="bound on opening a connection"
    )
    redis_socket_timeout_seconds: float = Field(
        default=2.0, gt=0, description="bound on one command's reply"
    )
