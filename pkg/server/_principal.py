"""The server package's view of ``pkg.principal`` (which holds the grpc-free types)."""

from pkg.principal import (
    CachingTokenVerifier,
    JwksTokenVerifier,
    Principal,
    TokenVerifier,
    bind_principal,
    current_principal,
    decode_access_token,
    require_principal,
    unbind_principal,
)

__all__ = [
    "CachingTokenVerifier",
    "JwksTokenVerifier",
    "Principal",
    "TokenVerifier",
    "bind_principal",
    "current_principal",
    "decode_access_token",
    "require_principal",
    "unbind_principal",
]
