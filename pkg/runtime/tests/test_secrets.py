"""Generated secrets, masked URLs and the checks before a data directory is made private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pkg.runtime import MeshError, MeshLayout
from pkg.runtime._accounts import running_as_root
from pkg.runtime._private import secure_data_dir
from pkg.runtime._secrets import read_or_create_secret, redact_url, with_password


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "redis.password"
    first = read_or_create_secret(path)
    assert len(first) == 48 and int(first, 16) >= 0
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert read_or_create_secret(path) == first
    assert read_or_create_secret(tmp_path / "other.password") != first


def test_a_secret_file_left_readable_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "postgres.password"
    path.write_text("kept-value\n")
    path.chmod(0o644)
    assert read_or_create_secret(path) == "kept-value"
    assert _mode(path) == 0o600


def test_an_empty_secret_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "postgres.password"
    path.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_or_create_secret(path)


def test_urls_get_and_lose_their_password() -> None:
    url = with_password("postgresql://127.0.0.1:5/postgres", "postgres", "p@ss:word")
    assert url == "postgresql://postgres:p%40ss%3Aword@127.0.0.1:5/postgres"
    assert redact_url(url) == "postgresql://postgres:***@127.0.0.1:5/postgres"
    assert redact_url("redis://:secret@cache:6379/2") == "redis://:***@cache:6379/2"
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redact_url("postgresql://app@db/x") == "postgresql://app@db/x"


def test_a_new_data_directory_is_made_private(tmp_path: Path) -> None:
    layout = MeshLayout.at(tmp_path / "mesh")
    secure_data_dir(layout, None)
    assert _mode(layout.data_dir) == 0o700
    for folder in (layout.logs, layout.secrets, layout.redis, layout.envoy_config.parent):
        assert _mode(folder) == 0o700


def test_a_folder_that_holds_no_mesh_is_not_locked(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    (home / "notes.txt").write_text("mine")
    with pytest.raises(MeshError, match="holds no Agora mesh"):
        secure_data_dir(MeshLayout.at(home), None)
    assert _mode(home) == 0o755


@pytest.mark.skipif(not running_as_root(), reason="giving a folder away needs root")
def test_a_data_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    planted = tmp_path / "planted"
    planted.mkdir(mode=0o777)
    os.chown(planted, 65534, 65534)
    with pytest.raises(MeshError, match="belongs to uid 65534"):
        secure_data_dir(MeshLayout.at(planted), None)
    assert not (planted / "secrets").exists()
