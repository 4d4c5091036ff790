"""Idempotency keys of creates: request fingerprints, key records and the replay decision.

Pure Python, shared by every service; each service keeps its own table of key records.
Semantics follow AIP-155 (https://google.aip.dev/155), the IETF draft
draft-ietf-httpapi-idempotency-key-header ("Idempotency Fingerprint", "Error Scenarios",
"Security Considerations") and Stripe's API, which the draft lists: a key sent again with
the same request gets the first result; with a different request it is refused; keys are
scoped to the caller and expire.

- **Scope**: the mTLS caller identity (``pkg.server.peer_identity``) for internal RPCs,
  the access token's subject where a user creates something.  ``(scope, request_id)`` is
  the key: one caller cannot replay or block another's keys.
- **Fingerprint**: ``fingerprint(fields)`` over the request's non-secret fields, after the
  use case normalised them.  Secrets (passwords) are never part of it: a use case proves
  them on replay against what it stored for the resource (an argon2 hash), and answers a
  failed proof exactly like a different request, ``IdempotencyKeyReused``.
- **Expiry**: a record is live until ``expire_time``; after it the key counts as unseen
  and its record may be replaced.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from agora.errors.v1.reasons import SharedReason
from pkg.errors import FieldViolation, InvalidArgument

DEFAULT_TTL = timedelta(hours=24)
"""How long a key is remembered unless a service configures otherwise (Stripe: 24 h)."""

REUSED_REASON = SharedReason.IDEMPOTENCY_KEY_REUSED

FieldValue = str | int | bool | None | Sequence[str]
"""A fingerprinted field's value: a scalar or a list of strings (sort sets first)."""


def fingerprint(fields: Mapping[str, FieldValue]) -> str:
    """SHA-256 (hex, 64 characters) of ``fields`` in a canonical JSON encoding.

    The encoding is JSON with keys sorted, no insignificant whitespace and UTF-8 text
    (the shape of RFC 8785's canonical form for these value types), so equal mappings give
    equal fingerprints whatever their key order.  Lists keep their order: pass sets sorted.
    Raises ``TypeError`` for values that are not ``FieldValue``.
    """
    canonical = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IdempotencyKey:
    """One remembered key: which request (``fingerprint``) created which resource.

    ``scope`` is the caller (see the module docstring), ``request_id`` the client's key,
    ``resource_id`` the created resource's id, both as text.  ``create_time`` and
    ``expire_time`` are timezone-aware ``datetime``s.  An empty ``fingerprint`` (records
    from before fingerprints were stored) matches no request.
    """

    scope: str
    request_id: str
    fingerprint: str
    resource_id: str
    create_time: datetime
    expire_time: datetime

    @classmethod
    def new(
        cls,
        *,
        scope: str,
        request_id: str,
        fingerprint: str,
        resource_id: str,
        now: datetime,
        ttl: timedelta = DEFAULT_TTL,
    ) -> IdempotencyKey:
        """A record created ``now`` that expires ``ttl`` later."""
        return cls(
            scope=scope,
            request_id=request_id,
            fingerprint=fingerprint,
            resource_id=resource_id,
            create_time=now,
            expire_time=now + ttl,
        )

    def expired(self, now: datetime) -> bool:
        """Whether the key is forgotten at ``now`` (``expire_time`` reached)."""
        return self.expire_time <= now


class Decision(enum.Enum):
    """What a create does with a request whose key may have been seen before."""

    NEW = "new"
    """No record: create, and store the key."""
    EXPIRED = "expired"
    """A record past its ``expire_time``: the key is unseen; create and replace the record."""
    REPLAY = "replay"
    """Same request: answer with the recorded resource (after proving any secret)."""
    REUSED = "reused"
    """Another request under the same key: refuse with ``IdempotencyKeyReused``."""


def decide(stored: IdempotencyKey | None, request_fingerprint: str, now: datetime) -> Decision:
    """The ``Decision`` for a request with ``request_fingerprint`` whose key's record is
    ``stored`` (``None`` when there is none), at ``now``.

    AIP-155: a request ID already seen returns the response of the first request; the
    IETF draft (draft-ietf-httpapi-idempotency-key-header, "Error Scenarios") refuses a
    key reused with a different payload (HTTP 422 there; Agora answers INVALID_ARGUMENT,
    HTTP 400, as Stripe does).  The fingerprint comparison is constant-time.
    """
    if stored is None:
        return Decision.NEW
    if stored.expired(now):
        return Decision.EXPIRED
    if stored.fingerprint and hmac.compare_digest(stored.fingerprint, request_fingerprint):
        return Decision.REPLAY
    return Decision.REUSED


class IdempotencyKeyReused(InvalidArgument):
    """The key was used for another request, or the replay's secret did not match.

    INVALID_ARGUMENT (HTTP 400) with ``ErrorInfo`` reason ``IDEMPOTENCY_KEY_REUSED`` and a
    ``BadRequest`` violation on ``field`` (the request's key field, ``request_id``).  The
    message is the same for both causes, so it tells nothing about the stored request.
    """

    reason = REUSED_REASON

    def __init__(self, field: str = "request_id") -> None:
        description = "was already used for a different request; send a new one for a new request"
        super().__init__(
            f"{field} {description}",
            violations=[FieldViolation(field=field, description=description, reason=REUSED_REASON)],
        )
