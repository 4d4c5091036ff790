"""The service table is data: ``services/registry.toml`` read by ``load_services``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pkg.registry import REGISTRY
from pkg.runtime import SERVICES, MeshError
from pkg.runtime._mesh import load_services, service_spec


def test_services_are_the_repository_table_in_file_order() -> None:
    entries = tomllib.loads(REGISTRY.read_text())["service"]
    assert [
        (s.name, s.port_offset, s.database, s.redis, dict(s.env), list(s.depends_on))
        for s in SERVICES
    ] == [
        (
            e["name"],
            e["port_offset"],
            e.get("database", False),
            e.get("redis", True),
            e.get("env", {}),
            e.get("depends_on", []),
        )
        for e in entries
    ]


def test_the_repository_table_has_auth_and_user() -> None:
    auth, user = service_spec("auth"), service_spec("user")
    assert (auth.port_offset, auth.database, auth.redis) == (1, False, True)
    assert (user.port_offset, user.database, user.redis) == (2, True, True)
    assert dict(auth.env) == {"AGORA_AUTH_KEYS_DIR": "{data}/auth/keys"}
    assert dict(user.env) == {"AGORA_USER_JWKS_CACHE_FILE": "{data}/user/jwks.json"}
    assert [s.name for s in SERVICES][:2] == ["auth", "user"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[[service]]\nname = "a"\n', "bad \\[\\[service\\]\\] entry"),
        ('[[service]]\nname = "a"\nport_offset = 1\ncolour = "red"\n', "colour"),
        (
            '[[service]]\nname = "aa"\nport_offset = 1\n'
            '[[service]]\nname = "bb"\nport_offset = 1\n',
            "share a port_offset",
        ),
        ("[[service]\n", "cannot read"),
    ],
)
def test_a_bad_table_is_a_mesh_error_naming_the_problem(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "registry.toml"
    path.write_text(text)
    with pytest.raises(MeshError, match=says):
        load_services(path)


def test_a_missing_table_is_a_mesh_error(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="cannot read"):
        load_services(tmp_path / "absent.toml")
