"""The user service's domain: users, email addresses, roles, callers, events and errors."""

from pkg.errors import InvalidCredentials, InvalidField
from services.user.domain.errors import (
    AccountDisabled,
    EmailTaken,
    EtagMismatch,
    NotAllowed,
    SelfLockout,
    UserNotFound,
)
from services.user.domain.events import (
    UserCreated,
    UserDisabled,
    UserEnabled,
    UserEvent,
    UserProfileUpdated,
    UserRolesChanged,
)
from services.user.domain.model import (
    AccountState,
    Caller,
    Email,
    Role,
    User,
    check_password,
    parse_display_name,
)

__all__ = [
    "AccountDisabled",
    "AccountState",
    "Caller",
    "Email",
    "EmailTaken",
    "EtagMismatch",
    "InvalidCredentials",
    "InvalidField",
    "NotAllowed",
    "Role",
    "SelfLockout",
    "User",
    "UserCreated",
    "UserDisabled",
    "UserEnabled",
    "UserEvent",
    "UserNotFound",
    "UserProfileUpdated",
    "UserRolesChanged",
    "check_password",
    "parse_display_name",
]
