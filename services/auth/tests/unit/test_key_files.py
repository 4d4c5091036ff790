"""Signing keys on disk: first start, rotation picked up live, retirement."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from services.auth.adapters import (
    FileKeyStore,
    create_key,
    ensure_key,
    jwk_thumbprint,
    read_keys,
    retire_keys,
    rotate_key,
)
from services.auth.service import AccessTokens


def test_first_start_creates_one_private_key_file(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    [key] = ensure_key(keys_dir)
    files = list(keys_dir.glob("*.pem"))
    assert [f.stem for f in files] == [key.kid]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    assert key.kid.endswith(jwk_thumbprint(key.private_key.public_key())[:16])
    assert [k.kid for k in ensure_key(keys_dir)] == [key.kid]


async def test_a_rotated_key_is_published_without_restart_and_signs_after_the_delay(
    tmp_path: Path,
) -> None:
    now = [0.0]
    later = [timedelta(0)]
    store = FileKeyStore(tmp_path, rescan_seconds=2.0, clock=lambda: now[0])
    store.load()
    access = AccessTokens(
        store,
        issuer="iss",
        audience="aud",
        ttl_seconds=900,
        activation_delay_seconds=600,
        clock=lambda: datetime.now(UTC) + later[0],
    )
    before = await access.issue("user-1", ("customer",))

    added = rotate_key(tmp_path)
    now[0] += 2.5
    published = await access.issue("user-1", ("customer",))
    assert next(k["kid"] for k in (await access.jwks())["keys"]) == added.kid
    assert len((await access.jwks())["keys"]) == 2
    later[0] = timedelta(seconds=600)
    after = await access.issue("user-1", ("customer",))

    assert (
        jwt.get_unverified_header(published)["kid"]
        == jwt.get_unverified_header(before)["kid"]
        != added.kid
    )
    assert jwt.get_unverified_header(after)["kid"] == added.kid
    assert (await access.verify(before)).subject == "user-1"


def test_retire_removes_keys_superseded_long_ago_but_never_the_signer(tmp_path: Path) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    first, second, third = (
        create_key(tmp_path, now=start + timedelta(days=d)) for d in (0, 10, 20)
    )
    now = (start + timedelta(days=30)).timestamp()

    assert retire_keys(tmp_path, older_than_seconds=15 * 86400, now=now) == [first.kid]
    assert [k.kid for k in read_keys(tmp_path)] == [third.kid, second.kid]
    assert retire_keys(tmp_path, older_than_seconds=1, now=now) == [second.kid]
    assert retire_keys(tmp_path, older_than_seconds=1, now=now + 1e9) == []
    assert [k.kid for k in read_keys(tmp_path)] == [third.kid]


def test_a_key_is_superseded_only_once_its_successor_signs(tmp_path: Path) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    first, second = (create_key(tmp_path, now=start + timedelta(days=d)) for d in (0, 10))
    delay, grace = 86400.0, 0.25 * 86400

    pending = (start + timedelta(days=10.5)).timestamp()
    assert (
        retire_keys(tmp_path, older_than_seconds=grace, now=pending, activation_delay_seconds=delay)
        == []
    )
    signing = (start + timedelta(days=11.2)).timestamp()
    assert (
        retire_keys(tmp_path, older_than_seconds=grace, now=signing, activation_delay_seconds=delay)
        == []
    )
    past_grace = (start + timedelta(days=11.3)).timestamp()
    assert retire_keys(
        tmp_path, older_than_seconds=grace, now=past_grace, activation_delay_seconds=delay
    ) == [first.kid]
    assert [k.kid for k in read_keys(tmp_path)] == [second.kid]


def test_unreadable_files_are_skipped(tmp_path: Path) -> None:
    key = create_key(tmp_path)
    (tmp_path / "20990101T000000000000Z-garbage.pem").write_text("not a key")
    assert [k.kid for k in read_keys(tmp_path)] == [key.kid]
