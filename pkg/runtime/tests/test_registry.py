"""The service table is data: ``services/registry.toml`` read by ``load_services``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pkg.runtime import SERVICES, MeshError
from pkg.runtime._mesh import load_services


def test_the_repository_table_has_auth_and_user() -> None:
    assert [(s.name, s.port_offset, s.database, s.redis) for s in SERVICES] == [
        ("auth", 1, False, True),
        ("user", 2, True, True),
    ]
    assert dict(SERVICES[1].env) == {"AGORA_USER_JWKS_CACHE_FILE": "{data}/user/jwks.json"}


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
