"""The user service's use cases (``Accounts``, ``Profiles``, ``Administration``) and the
ports they need."""

from pkg.clock import Clock
from pkg.paging import PageCursor
from services.user.service.accounts import Accounts
from services.user.service.administration import Administration
from services.user.service.ports import (
    PasswordHasher,
    UserQueries,
    UserRepositories,
    UserRepository,
    UserUnitOfWork,
)
from services.user.service.profiles import Profiles, UserPage, UserView

__all__ = [
    "Accounts",
    "Administration",
    "Clock",
    "PageCursor",
    "PasswordHasher",
    "Profiles",
    "UserPage",
    "UserQueries",
    "UserRepositories",
    "UserRepository",
    "UserUnitOfWork",
    "UserView",
]
