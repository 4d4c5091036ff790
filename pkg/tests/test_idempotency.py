"""``pkg.idempotency``: canonical fingerprints and the replay decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pkg.idempotency import Decision, IdempotencyKey, IdempotencyKeyReused, decide, fingerprint

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    one = fingerprint({"email": "ada@example.com", "roles": ["customer", "provider"]})
    assert one == fingerprint({"roles": ["customer", "provider"], "email": "ada@example.com"})
    assert len(one) == 64
    assert one != fingerprint({"email": "ada@example.com", "roles": ["provider", "customer"]})
    assert one != fingerprint({"email": "ada@example.com", "roles": ["customer"]})
    assert fingerprint({"a": "b,c"}) != fingerprint({"a": "b", "c": ""})


def test_fingerprint_refuses_what_it_cannot_encode_canonically() -> None:
    with pytest.raises(TypeError):
        fingerprint({"roles": {"customer"}})  # type: ignore[dict-item]


def _key(fingerprint: str = "f" * 64) -> IdempotencyKey:
    return IdempotencyKey.new(
        scope="auth",
        request_id="r",
        fingerprint=fingerprint,
        resource_id="u",
        now=T0,
        ttl=timedelta(hours=24),
    )


@pytest.mark.parametrize(
    ("stored", "incoming", "at", "decision"),
    [
        (None, "f" * 64, T0, Decision.NEW),
        (_key(), "f" * 64, T0 + timedelta(hours=23), Decision.REPLAY),
        (_key(), "0" * 64, T0, Decision.REUSED),
        (_key(), "0" * 64, T0 + timedelta(hours=24), Decision.EXPIRED),
        (_key(fingerprint=""), "", T0, Decision.REUSED),
    ],
)
def test_decide(
    stored: IdempotencyKey | None, incoming: str, at: datetime, decision: Decision
) -> None:
    assert decide(stored, incoming, at) is decision


def test_reused_key_names_the_request_id_field() -> None:
    error = IdempotencyKeyReused()
    assert error.reason == "IDEMPOTENCY_KEY_REUSED"
    assert [(v.field, v.reason) for v in error.violations] == [
        ("request_id", "IDEMPOTENCY_KEY_REUSED")
    ]
