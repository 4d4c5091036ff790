"""Settings checks and the key-management commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.auth.__main__ import main
from services.auth.adapters import read_keys
from services.auth.config import AuthSettings


def test_production_refuses_a_missing_keys_dir(tmp_path: Path) -> None:
    settings = AuthSettings(keys_dir=tmp_path / "missing")  # type: ignore[call-arg]
    settings.check_environment("development")
    with pytest.raises(ValueError, match="KEYS_DIR"):
        settings.check_environment("production")
    (tmp_path / "missing").mkdir()
    settings.check_environment("production")


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
    assert main(["rotate-key"]) == 0
    assert main(["rotate-key"]) == 0
    newest = capsys.readouterr().out.split()[-1]
    assert next(k.kid for k in read_keys(tmp_path)) == newest
    assert main(["retire-keys", "--older-than-days", "1"]) == 0
    assert len(read_keys(tmp_path)) == 2
    with pytest.raises(SystemExit):
        main(["retire-keys", "--older-than-days", "0"])
