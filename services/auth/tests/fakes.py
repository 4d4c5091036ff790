"""In-memory implementations of the auth ports, for unit and contract tests.

Each fake implements the same Protocol as its adapter (``services.auth.service.ports``)
and the same observable rules, so a test passing against a fake describes the service.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec

from agora.user.v1.reasons import UserReason
from pkg.errors import AlreadyExists
from pkg.idempotency import IdempotencyKeyReused, fingerprint
from services.auth.domain import (
    Account,
    InvalidCredentials,
    NewAccount,
    RefreshOutcome,
    Rotation,
    ThrottleKey,
    TokenFamily,
    account_key,
)
from services.auth.service import SigningKey


@dataclass
class FakeUserDirectory:
    """Users in a dict; ``AlreadyExists`` (reason EMAIL_TAKEN) for a taken email.

    ``request_id`` follows the user service's rules (``pkg.idempotency``): the same
    registration with the same password returns the first account; anything else under
    the same key is ``IdempotencyKeyReused``.
    """

    users: dict[str, tuple[str, Account]] = field(default_factory=dict)
    requests: dict[str, tuple[str, Account]] = field(default_factory=dict)
    created: list[NewAccount] = field(default_factory=list)

    def add(self, email: str, password: str, roles: tuple[str, ...] = ("customer",)) -> Account:
        account = Account(
            user_id=str(uuid.uuid4()),
            email=email,
            display_name=email.split("@")[0],
            roles=roles,
            etag="e1",
        )
        self.users[account_key(email)] = (password, account)
        return account

    async def create_user(self, account: NewAccount) -> Account:
        self.created.append(account)
        request = fingerprint(
            {
                "email": account_key(account.email),
                "display_name": account.display_name.strip(),
                "roles": sorted(account.roles or ("customer",)),
            }
        )
        if account.request_id in self.requests:
            earlier, created = self.requests[account.request_id]
            if earlier != request or self.users[account_key(created.email)][0] != account.password:
                raise IdempotencyKeyReused()
            return created
        if account_key(account.email) in self.users:
            raise AlreadyExists(
                f"a user with email {account.email} exists", reason=UserReason.EMAIL_TAKEN
            )
        created = self.add(account.email, account.password, account.roles or ("customer",))
        self.requests[account.request_id] = (request, created)
        return created

    async def verify_credentials(self, email: str, password: str) -> Account:
        known = self.users.get(account_key(email))
        if known is None or known[0] != password:
            raise InvalidCredentials()
        return known[1]


@dataclass
class FakeRequestLog:
    """Request ids in a set (no window: a test never outlives it)."""

    seen: set[str] = field(default_factory=set)

    async def first_use(self, request_id: str) -> bool:
        first = request_id not in self.seen
        self.seen.add(request_id)
        return first


@dataclass
class FakeTokenStore:
    """Families and token hashes in dicts, with the Redis adapter's rotation rules.

    Records are forgotten at the family's ``expires_at`` as Redis keys are (``forget``
    drops what has expired at a given instant, as Redis would have by then).
    """

    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # hash -> (family, state)
    families: dict[str, tuple[TokenFamily, bool]] = field(default_factory=dict)  # -> revoked
    applied_events: set[str] = field(default_factory=set)

    async def create_family(self, family: TokenFamily, token_hash: str) -> None:
        self.families[family.family_id] = (family, False)
        self.tokens[token_hash] = (family.family_id, "active")

    def forget(self, now: datetime) -> None:
        for family_id, (family, _) in list(self.families.items()):
            if family.expired(now):
                del self.families[family_id]
        self.tokens = {h: t for h, t in self.tokens.items() if t[0] in self.families}

    async def rotate(self, token_hash: str, successor_hash: str, *, now: datetime) -> Rotation:
        family_id, state = self.tokens.get(token_hash, ("", ""))
        if family_id not in self.families:
            return Rotation(RefreshOutcome.UNKNOWN)
        family, revoked = self.families[family_id]
        if revoked:
            return Rotation(RefreshOutcome.REVOKED, family)
        if family.expired(now):
            self.families[family_id] = (family, True)
            return Rotation(RefreshOutcome.EXPIRED, family)
        if state != "active":
            self.families[family_id] = (family, True)
            return Rotation(RefreshOutcome.REUSED, family)
        self.tokens[token_hash] = (family_id, "rotated")
        self.tokens[successor_hash] = (family_id, "active")
        return Rotation(RefreshOutcome.ROTATED, family)

    async def revoke_family_of(self, token_hash: str) -> bool:
        family_id, _ = self.tokens.get(token_hash, ("", ""))
        if family_id not in self.families:
            return False
        self.families[family_id] = (self.families[family_id][0], True)
        return True

    async def revoke_user(self, user_id: str) -> int:
        live = [f for f, revoked in self.families.values() if f.user_id == user_id and not revoked]
        for family in live:
            self.families[family.family_id] = (family, True)
        return len(live)

    async def revoke_user_once(self, user_id: str, *, event_id: str) -> int | None:
        if event_id in self.applied_events:
            return None
        self.applied_events.add(event_id)
        return await self.revoke_user(user_id)


@dataclass
class FakeThrottle:
    """Fixed-window failure counters; ``clock`` returns seconds."""

    clock: Callable[[], float] = time.monotonic
    counters: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def _live(self, key: ThrottleKey) -> tuple[int, float]:
        count, ends = self.counters.get((key.rule.scope, key.subject), (0, 0.0))
        return (count, ends) if ends > self.clock() else (0, 0.0)

    async def blocked(self, keys: Sequence[ThrottleKey]) -> tuple[ThrottleKey, float] | None:
        for key in keys:
            count, ends = self._live(key)
            if count >= key.rule.limit:
                return key, ends - self.clock()
        return None

    async def record_failure(self, keys: Sequence[ThrottleKey]) -> None:
        for key in keys:
            count, ends = self._live(key)
            if count == 0:
                ends = self.clock() + key.rule.window_seconds
            self.counters[(key.rule.scope, key.subject)] = (count + 1, ends)

    async def reset(self, key: ThrottleKey) -> None:
        self.counters.pop((key.rule.scope, key.subject), None)


@dataclass
class FakeSigningKeys:
    """Keys in a list, newest last; ``rotate(at)`` adds a new P-256 key created at ``at``
    (Unix seconds, now by default)."""

    keys: list[SigningKey] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.keys:
            self.rotate(0.0)

    def rotate(self, at: float | None = None) -> SigningKey:
        key = SigningKey(
            kid=f"kid-{len(self.keys) + 1}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            created_at=time.time() if at is None else at,
        )
        self.keys.append(key)
        return key

    async def verification_keys(self) -> Mapping[str, SigningKey]:
        return {k.kid: k for k in reversed(self.keys)}
