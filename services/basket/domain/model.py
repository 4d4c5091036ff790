"""Baskets: the resource of the basket service.

Pure Python: no gRPC, no SQLAlchemy.  Instants are timezone-aware UTC ``datetime``s.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from agora.basket.v1.reasons import BasketReason
from pkg.errors import InvalidField
from services.basket.domain.events import BasketCreated, BasketUpdated

DISPLAY_NAME_MAX = 100


def parse_display_name(text: str) -> str:
    """``text`` without surrounding whitespace; ``InvalidField`` (``display_name``) when
    that is empty, longer than 100 characters or holds control characters."""
    name = text.strip()
    if not name or len(name) > DISPLAY_NAME_MAX or not name.isprintable():
        raise InvalidField(
            "display_name",
            f"must be 1 to {DISPLAY_NAME_MAX} printable characters",
            reason=BasketReason.DISPLAY_NAME_INVALID,
        )
    return name


@dataclass(frozen=True)
class Basket:
    """A basket.  ``version`` starts at 1 and grows with every change.

    Frozen: ``create`` and every change return a new ``Basket`` carrying the past-tense
    event it recorded in ``events`` (``services.basket.domain.events``), which the unit
    of work writes to the outbox when it commits; ``events`` takes no part in equality.
    """

    id: UUID
    display_name: str
    create_time: datetime
    update_time: datetime
    version: int = 1
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(cls, *, id: UUID, display_name: str, now: datetime) -> Basket:
        """A new basket (version 1) that recorded ``BasketCreated``."""
        return cls(
            id=id,
            display_name=display_name,
            create_time=now,
            update_time=now,
            events=[BasketCreated(id, display_name)],
        )

    def updated(self, fields: Collection[str], now: datetime, *, display_name: str) -> Basket:
        """A copy with the named ``fields`` (``display_name``) set, one version newer, that
        recorded ``BasketUpdated``."""
        name = display_name if "display_name" in fields else self.display_name
        event = BasketUpdated(self.id, name, tuple(sorted(fields)))
        return replace(
            self,
            display_name=name,
            update_time=now,
            version=self.version + 1,
            events=[*self.events, event],
        )

    @property
    def etag(self) -> str:
        """Weak entity tag of the current state (RFC 9110 8.8.3, AIP-154): ``W/"<version>"``."""
        return f'W/"{self.version}"'
