"""``mesh_redis_url``: the mesh's Redis URL with the password that ``mesh.json`` masks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pkg.runtime import MeshError, mesh_redis_url


def _mesh(data_dir: Path, **state: object) -> None:
    (data_dir / "mesh.json").write_text(json.dumps(state))


def test_the_embedded_redis_gets_the_password_from_the_secrets_folder(tmp_path: Path) -> None:
    _mesh(tmp_path, redis_embedded=True, redis_url="redis://default:***@127.0.0.1:63790/0")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "redis.password").write_text("s3cret\n")
    assert mesh_redis_url(tmp_path) == "redis://default:s3cret@127.0.0.1:63790/0"


def test_an_external_redis_comes_from_a_service_environment(tmp_path: Path) -> None:
    _mesh(
        tmp_path,
        redis_embedded=False,
        redis_url="redis://:***@10.0.0.7:6379/2",
        services=["user", "auth"],
    )
    (tmp_path / "supervisord.conf").write_text(
        "[program:auth-1]\n"
        'environment=AGORA_AUTH_LISTEN="127.0.0.1:50051",'
        'AGORA_AUTH_REDIS_URL="redis://:p%%40ss@10.0.0.7:6379/2"\n'
    )
    assert mesh_redis_url(tmp_path) == "redis://:p%40ss@10.0.0.7:6379/2"


def test_no_mesh_and_no_url_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        mesh_redis_url(tmp_path)
    _mesh(tmp_path, redis_embedded=False, redis_url="redis://:***@h:1/0", services=[])
    with pytest.raises(MeshError, match="--redis-url"):
        mesh_redis_url(tmp_path)
    _mesh(tmp_path, redis_embedded=True, redis_url="redis://default:***@h:1/0")
    with pytest.raises(MeshError, match="cannot read the Redis password"):
        mesh_redis_url(tmp_path)
