"""The user service's domain: users, email addresses, roles, callers and errors."""

from pkg.errors import InvalidCredentials, InvalidField
from services.user.domain.errors import (
    EmailTaken,
    EtagMismatch,
    NotAllowed,
    UserNotFound,
)
from services.user.domain.model import (
    Caller,
    Email,
    Role,
    User,
    check_password,
    parse_display_name,
)

__all__ = [
    "Caller",
    "Email",
    "EmailTaken",
    "EtagMismatch",
    "InvalidCredentials",
    "InvalidField",
    "NotAllowed",
    "Role",
    "User",
    "UserNotFound",
    "check_password",
    "parse_display_name",
]
