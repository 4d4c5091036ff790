"""The user service's use cases and the ports (Protocols) they need."""

from services.user.service.accounts import create_user, verify_credentials
from services.user.service.paging import PageCursor
from services.user.service.ports import Clock, PasswordHasher, UserRepository
from services.user.service.profiles import (
    UserPage,
    UserView,
    get_user,
    list_users,
    update_profile,
)

__all__ = [
    "Clock",
    "PageCursor",
    "PasswordHasher",
    "UserPage",
    "UserRepository",
    "UserView",
    "create_user",
    "get_user",
    "list_users",
    "update_profile",
    "verify_credentials",
]
