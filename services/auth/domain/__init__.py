"""The auth domain: accounts, tokens and token families, throttle rules, errors.

Pure Python: no gRPC, Redis or file I/O here.
"""

from pkg.errors import InvalidCredentials
from services.auth.domain.accounts import DEFAULT_ROLES, Account, NewAccount, account_key
from services.auth.domain.errors import (
    AccountDisabled,
    InvalidRefreshToken,
    RefreshTokenReused,
    SessionExpired,
    TooManyAttempts,
)
from services.auth.domain.throttle import LoginThrottlePolicy, ThrottleKey, ThrottleRule
from services.auth.domain.tokens import (
    AccessClaims,
    RefreshOutcome,
    Rotation,
    TokenFamily,
    TokenPair,
    hash_refresh_token,
    new_family_id,
    new_refresh_token,
    refresh_token_expiry,
)

__all__ = [
    "DEFAULT_ROLES",
    "AccessClaims",
    "Account",
    "AccountDisabled",
    "InvalidCredentials",
    "InvalidRefreshToken",
    "LoginThrottlePolicy",
    "NewAccount",
    "RefreshOutcome",
    "RefreshTokenReused",
    "Rotation",
    "SessionExpired",
    "ThrottleKey",
    "ThrottleRule",
    "TokenFamily",
    "TokenPair",
    "TooManyAttempts",
    "account_key",
    "hash_refresh_token",
    "new_family_id",
    "new_refresh_token",
    "refresh_token_expiry",
]
