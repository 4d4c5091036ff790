"""The one clock type of every service: a callable returning a timezone-aware ``datetime``.

Use cases take a ``Clock`` (tests pass a fixed one); ``utcnow`` is the real one.  Code that
needs Unix seconds (JWT ``iat``/``exp``, RFC 7519 §2 NumericDate) converts with
``datetime.timestamp()`` where it needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current instant as a timezone-aware ``datetime``."""


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


__all__ = ["Clock", "utcnow"]
