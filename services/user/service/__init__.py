"""The user service's use cases (``Accounts``, ``Profiles``) and the ports they need."""

from pkg.clock import Clock
from pkg.paging import PageCursor
from services.user.service.accounts import Accounts
from services.user.service.ports import PasswordHasher, UserRepository
from services.user.service.profiles import Profiles, UserPage, UserView

__all__ = [
    "Accounts",
    "Clock",
    "PageCursor",
    "PasswordHasher",
    "Profiles",
    "UserPage",
    "UserRepository",
    "UserView",
]
