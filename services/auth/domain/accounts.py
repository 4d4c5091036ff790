"""Accounts as the auth service sees them: who logs in, and what a registration asks for.

The user service owns users; these are read-only copies that travel through the use cases.
Roles are lower-case names (``customer``, ``provider``, ``admin``), as in access tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DEFAULT_ROLES: tuple[str, ...] = ("customer",)


@dataclass(frozen=True)
class Account:
    """A user of the marketplace: ``user_id`` is the uuid in ``users/{uuid}``.

    ``create_time``/``update_time`` are timezone-aware UTC instants, ``None`` when the
    user service did not send them; ``etag`` is the user service's checksum (AIP-154).
    """

    user_id: str
    email: str
    display_name: str
    roles: tuple[str, ...]
    create_time: datetime | None = None
    update_time: datetime | None = None
    etag: str = ""


@dataclass(frozen=True)
class NewAccount:
    """A registration: credentials and profile of the user to create.

    ``request_id`` is the idempotency key (AIP-155, ADR 0012), a uuid, fresh when the
    client sent none; ``roles`` may be empty (the user service then makes a customer).
    """

    email: str
    password: str
    display_name: str
    roles: tuple[str, ...]
    request_id: str


def account_key(email: str) -> str:
    """The account a login attempt counts against: ``email`` stripped and lower-cased.

    Emails are unique regardless of case (user.proto), so ``Ann@X.io`` and ``ann@x.io``
    share one throttle counter.
    """
    return email.strip().lower()
