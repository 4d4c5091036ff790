"""Auth use cases (``Sessions``, ``AccessTokens``, ``AccountChanges``) and the ports they
consume."""

from services.auth.service.access_tokens import AccessTokens, public_jwk, signer_at
from services.auth.service.account_changes import AccountChanges
from services.auth.service.ports import (
    AttemptThrottle,
    RequestLog,
    SigningKey,
    SigningKeys,
    TokenStore,
    UserDirectory,
)
from services.auth.service.sessions import Sessions

__all__ = [
    "AccessTokens",
    "AccountChanges",
    "AttemptThrottle",
    "RequestLog",
    "Sessions",
    "SigningKey",
    "SigningKeys",
    "TokenStore",
    "UserDirectory",
    "public_jwk",
    "signer_at",
]
