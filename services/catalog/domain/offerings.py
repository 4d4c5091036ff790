"""Service offerings (the services providers perform) and the links of providers to them.

Pure Python: no gRPC, no SQLAlchemy.  Instants are timezone-aware UTC ``datetime``s.
An ``Offering`` is an admin's catalog entry; a ``ProviderOffering`` says that one provider
(a user with the ``provider`` role, by user id) performs one offering.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from agora.catalog.v1.reasons import CatalogReason
from pkg.errors import Aborted, InvalidField, NotFound, PermissionDenied

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
_LINE_BREAKS = str.maketrans("", "", "\n\r\t")


def parse_offering_title(text: str) -> str:
    """``text`` without surrounding whitespace; ``InvalidField`` (``title``,
    TITLE_INVALID) when that is empty, longer than 200 characters or holds control
    characters."""
    title = text.strip()
    if not title or len(title) > TITLE_MAX or not title.isprintable():
        raise InvalidField(
            "title",
            f"must be 1 to {TITLE_MAX} printable characters",
            reason=CatalogReason.TITLE_INVALID,
        )
    return title


def parse_offering_description(text: str) -> str:
    """``text`` without surrounding whitespace (may be empty); ``InvalidField``
    (``description``, DESCRIPTION_INVALID) when longer than 5000 characters or holding
    control characters other than line breaks and tabs."""
    description = text.strip()
    if len(description) > DESCRIPTION_MAX or not description.translate(_LINE_BREAKS).isprintable():
        raise InvalidField(
            "description",
            f"must be at most {DESCRIPTION_MAX} characters, with no control characters "
            "but line breaks and tabs",
            reason=CatalogReason.DESCRIPTION_INVALID,
        )
    return description


@dataclass(frozen=True)
class Offering:
    """A service providers perform.  ``version`` starts at 1 and grows with every change.

    Frozen: ``create`` and ``updated`` return new values.  ``events`` is empty (offerings
    publish no events yet); it is there so the unit of work can treat an offering as any
    other aggregate (``pkg.uow.Aggregate``), and takes no part in equality.
    """

    id: UUID
    title: str
    description: str
    create_time: datetime
    update_time: datetime
    version: int = 1
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(cls, *, id: UUID, title: str, description: str, now: datetime) -> Offering:
        """A new offering (version 1) created at ``now``."""
        return cls(id=id, title=title, description=description, create_time=now, update_time=now)

    def updated(
        self, fields: Collection[str], now: datetime, *, title: str, description: str
    ) -> Offering:
        """A copy with the named ``fields`` (``title``, ``description``) set, one version
        newer, updated at ``now``."""
        return replace(
            self,
            title=title if "title" in fields else self.title,
            description=description if "description" in fields else self.description,
            update_time=now,
            version=self.version + 1,
        )

    @property
    def etag(self) -> str:
        """Weak entity tag of the current state (RFC 9110 8.8.3, AIP-154): ``W/"<version>"``."""
        return f'W/"{self.version}"'


@dataclass(frozen=True)
class ProviderOffering:
    """Provider ``provider_id`` (a user id) performs offering ``offering_id`` since
    ``create_time``; at most one per pair."""

    provider_id: UUID
    offering_id: UUID
    create_time: datetime


class OfferingNotFound(NotFound):
    """No offering has the given id (NOT_FOUND)."""

    reason = CatalogReason.OFFERING_NOT_FOUND

    def __init__(self, offering_id: object) -> None:
        super().__init__(
            f"offering {offering_id} does not exist", metadata={"offering": str(offering_id)}
        )


class ProviderOfferingNotFound(NotFound):
    """The provider's profile does not hold the offering (NOT_FOUND)."""

    reason = CatalogReason.PROVIDER_OFFERING_NOT_FOUND

    def __init__(self, provider_id: object, offering_id: object) -> None:
        super().__init__(
            f"provider {provider_id} does not offer {offering_id}",
            metadata={"provider": str(provider_id), "offering": str(offering_id)},
        )


class ProviderNotCaller(PermissionDenied):
    """A provider tried to change another provider's profile (PERMISSION_DENIED)."""

    reason = CatalogReason.PROVIDER_NOT_CALLER

    def __init__(self, provider_id: object) -> None:
        super().__init__(
            "a provider may change only their own profile (providers/me)",
            metadata={"provider": str(provider_id)},
        )


class OfferingEtagMismatch(Aborted):
    """The request's etag is not the offering's current one (ABORTED, AIP-154)."""

    reason = CatalogReason.ETAG_MISMATCH

    def __init__(self, current: str) -> None:
        super().__init__(
            "the offering was changed since it was read; read it again",
            metadata={"etag": current},
        )
