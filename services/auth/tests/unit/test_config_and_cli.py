"""Settings checks and the key-management commands."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pkg.edge import load_contracts
from pkg.edge._filters import jwt_filter
from pkg.edge._routes import JWKS_CACHE_CONTROL
from pkg.principal import JwksTokenVerifier
from services.auth.__main__ import main
from services.auth.adapters import read_keys
from services.auth.config import JWKS_CACHE_SECONDS, AuthSettings


def test_production_refuses_a_missing_keys_dir(tmp_path: Path) -> None:
    settings = AuthSettings(keys_dir=tmp_path / "missing")  # type: ignore[call-arg]
    settings.check_environment("development")
    with pytest.raises(ValueError, match="KEYS_DIR"):
        settings.check_environment("production")
    (tmp_path / "missing").mkdir()
    settings.check_environment("production")


def test_production_refuses_an_activation_delay_within_the_jwks_caches(tmp_path: Path) -> None:
    short = AuthSettings(keys_dir=tmp_path, key_activation_delay_seconds=300)  # type: ignore[call-arg]
    short.check_environment("development")
    with pytest.raises(ValueError, match="ACTIVATION_DELAY"):
        short.check_environment("production")
    AuthSettings(keys_dir=tmp_path).check_environment("production")  # type: ignore[call-arg]


def test_the_default_activation_delay_outlasts_every_jwks_cache() -> None:
    contracts = load_contracts(Path(__file__).resolve().parents[4] / "gen" / "agora.binpb")
    edge = jwt_filter(contracts, issuer="iss", audience="aud", jwks_uri="https://auth/jwks")
    remote = edge["typed_config"]["providers"]["agora"]["remote_jwks"]
    caches = {
        "edge cache_duration": float(remote["cache_duration"].removesuffix("s")),
        "JWKS Cache-Control": float(JWKS_CACHE_CONTROL.rpartition("max-age=")[2]),
        "services' JwksTokenVerifier": inspect.signature(JwksTokenVerifier)
        .parameters["max_age"]
        .default,
    }
    assert max(caches.values()) == JWKS_CACHE_SECONDS, caches
    settings = AuthSettings()  # type: ignore[call-arg]
    assert settings.key_activation_delay_seconds > JWKS_CACHE_SECONDS + settings.key_rescan_seconds
    assert settings.family_lifetime_seconds == 30 * 86400


def test_settings_come_from_the_auth_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_AUTH_LOGIN_FAILURES_PER_ACCOUNT", "7")
    monkeypatch.setenv("AGORA_AUTH_REDIS_URL", "redis://example:6379/2")
    settings = AuthSettings()  # type: ignore[call-arg]
    assert settings.redis_url == "redis://example:6379/2"
    assert settings.throttle_policy().account.limit == 7
    assert settings.refresh_token_ttl_seconds == 14 * 86400


def test_rotate_key_then_retire_keeps_the_new_signer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGORA_AUTH_KEYS_DIR", str(tmp_path))
    monkeypatch.setenv("AGORA_AUTH_KEY_ACTIVATION_DELAY_SECONDS", "3600")
    assert main(["rotate-key"]) == 0
    assert main(["rotate-key"]) == 0
    printed = capsys.readouterr()
    newest = printed.out.split()[-1]
    key = next(iter(read_keys(tmp_path)))
    assert key.kid == newest
    signs_from = datetime.fromtimestamp(key.created_at + 3600, UTC)
    assert printed.err.splitlines()[-1].endswith(signs_from.isoformat(timespec="seconds"))
    assert main(["retire-keys", "--older-than-days", "1"]) == 0
    assert len(read_keys(tmp_path)) == 2
    with pytest.raises(SystemExit):
        main(["retire-keys", "--older-than-days", "0"])
