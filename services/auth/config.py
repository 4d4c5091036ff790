"""Settings of the auth service (prefix ``AGORA_AUTH_``; see docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pkg.config import RedisSettingsMixin, ServiceSettings
from pkg.idempotency import DEFAULT_TTL
from services.auth.domain import LoginThrottlePolicy

JWKS_CACHE_SECONDS = 300
"""The longest any verifier serves a cached JWKS: the edge's ``cache_duration``, the
JWKS response's ``Cache-Control: max-age`` (both ``pkg/edge``) and ``JwksTokenVerifier``'s
``max_age`` (``pkg/principal.py``)."""


class AuthSettings(ServiceSettings, RedisSettingsMixin):
    """Redis, signing keys, token lifetimes (seconds) and login throttle limits."""

    model_config = SettingsConfigDict(env_prefix="AGORA_AUTH_", extra="ignore")

    listen: str = Field(default="127.0.0.1:50051", description="host:port of the gRPC server")
    redis_url: str = Field(default="redis://127.0.0.1:63790/0", description="token families")
    keys_dir: Path = Field(
        default=Path(".agora/auth/keys"), description="ES256 signing keys, one PEM file per kid"
    )
    key_rescan_seconds: float = Field(
        default=2.0, gt=0, description="how often to look for new keys"
    )
    key_activation_delay_seconds: float = Field(
        default=2 * JWKS_CACHE_SECONDS,
        ge=0,
        description="seconds a new key is published in the JWKS before it signs; more "
        "than JWKS_CACHE_SECONDS + key_rescan_seconds",
    )
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(
        default=14 * 24 * 3600, gt=0, description="idle lifetime of a session"
    )
    family_lifetime_seconds: int = Field(
        default=30 * 24 * 3600, gt=0, description="absolute lifetime of a session"
    )
    register_request_ttl_seconds: float = Field(
        default=DEFAULT_TTL.total_seconds(),
        gt=0,
        description="how long a Register request_id is remembered as used; at least "
        "AGORA_USER_IDEMPOTENCY_KEY_TTL_SECONDS",
    )
    login_failures_per_account: int = Field(default=5, gt=0)
    login_failures_per_address: int = Field(default=20, gt=0)
    login_failure_window_seconds: int = Field(default=900, gt=0)
    xff_trusted_hops: int = Field(default=0, ge=0, description="proxies in front of the edge")
    user_timeout_seconds: float = Field(
        default=5.0, gt=0, description="deadline of user-service calls"
    )

    def throttle_policy(self) -> LoginThrottlePolicy:
        """The login throttle rules these settings describe."""
        return LoginThrottlePolicy.of(
            per_account=self.login_failures_per_account,
            per_address=self.login_failures_per_address,
            window_seconds=self.login_failure_window_seconds,
        )

    def check_environment(self, environment: str) -> None:
        """Refuse, in ``production``, a missing keys directory or a key activation delay
        that does not outlast the JWKS caches (``ValueError``).

        Elsewhere a missing directory is created with a first key; in production that
        would silently hand every worker or replica a key of its own.  A delay of at most
        ``JWKS_CACHE_SECONDS + key_rescan_seconds`` lets a new key sign tokens that a
        verifier holding a cached JWKS refuses (401) until its cache ends.
        """
        if environment != "production":
            return
        if not self.keys_dir.is_dir():
            raise ValueError(
                f"AGORA_AUTH_KEYS_DIR {self.keys_dir} does not exist; in "
                "production the signing keys directory must be provisioned"
            )
        if self.key_activation_delay_seconds <= JWKS_CACHE_SECONDS + self.key_rescan_seconds:
            raise ValueError(
                "AGORA_AUTH_KEY_ACTIVATION_DELAY_SECONDS must exceed the JWKS cache "
                f"({JWKS_CACHE_SECONDS} s) plus AGORA_AUTH_KEY_RESCAN_SECONDS"
            )
