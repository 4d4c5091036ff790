"""Login throttling: which counters a failed login increments and how far they may go.

Failed logins are counted per account (lower-cased email) and per client address in
fixed windows; once a counter reaches its limit, further logins for that account or
from that address are refused until the window ends (OWASP Authentication Cheat Sheet,
"Protect Against Automated Attacks").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottleRule:
    """At most ``limit`` failures per ``window_seconds`` for one subject of ``scope``."""

    scope: str
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class ThrottleKey:
    """One counter: a ``subject`` (an account key or an address) under ``rule``."""

    rule: ThrottleRule
    subject: str


@dataclass(frozen=True)
class LoginThrottlePolicy:
    """The two rules applied to every login: per account and per client address."""

    account: ThrottleRule
    address: ThrottleRule

    @classmethod
    def of(cls, *, per_account: int, per_address: int, window_seconds: int) -> LoginThrottlePolicy:
        """Rules allowing ``per_account``/``per_address`` failures per window (seconds)."""
        return cls(
            account=ThrottleRule("account", per_account, window_seconds),
            address=ThrottleRule("address", per_address, window_seconds),
        )

    def keys(self, account: str, address: str) -> tuple[ThrottleKey, ...]:
        """The counters of a login for ``account`` from ``address`` (address omitted if '')."""
        keys = [ThrottleKey(self.account, account)]
        if address:
            keys.append(ThrottleKey(self.address, address))
        return tuple(keys)
