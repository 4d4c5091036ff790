"""Adapters of the auth ports: Redis, key files, and the user service's stub."""

from services.auth.adapters.key_files import (
    create_key,
    ensure_key,
    jwk_thumbprint,
    read_keys,
    retire_keys,
    rotate_key,
)
from services.auth.adapters.key_store import FileKeyStore
from services.auth.adapters.redis_requests import RedisRequestLog
from services.auth.adapters.redis_throttle import RedisAttemptThrottle
from services.auth.adapters.redis_tokens import RedisTokenStore
from services.auth.adapters.user_directory import GrpcUserDirectory

__all__ = [
    "FileKeyStore",
    "GrpcUserDirectory",
    "RedisAttemptThrottle",
    "RedisRequestLog",
    "RedisTokenStore",
    "create_key",
    "ensure_key",
    "jwk_thumbprint",
    "read_keys",
    "retire_keys",
    "rotate_key",
]
