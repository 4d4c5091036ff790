"""``agora up --cors-origin`` / ``AGORA_CORS_ORIGINS``: the origins the edge lets browsers in."""

from __future__ import annotations

from pathlib import Path

import pytest

from pkg.cli.main import _plan, build_parser, main
from pkg.runtime import MeshLayout, MeshPlan
from pkg.runtime._up import envoy_config_options


def _plan_of(tmp_path: Path, *options: str) -> MeshPlan:
    args = build_parser().parse_args(["up", "--port-base", "42000", *options])
    return _plan(args, MeshLayout.at(tmp_path))


def test_no_origin_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGORA_CORS_ORIGINS", raising=False)
    plan = _plan_of(tmp_path)
    assert plan.cors_origins == ()
    assert plan.state()["cors_origins"] == []
    assert envoy_config_options(plan)["cors_origins"] == []


def test_repeated_flags_reach_the_edge_and_mesh_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORA_CORS_ORIGINS", "https://ignored.example")
    plan = _plan_of(
        tmp_path,
        "--cors-origin",
        "https://app.example.com",
        "--cors-origin",
        "http://localhost:5173",
        "--cors-origin",
        "https://app.example.com",
    )
    assert plan.cors_origins == ("https://app.example.com", "http://localhost:5173")
    assert plan.state()["cors_origins"] == ["https://app.example.com", "http://localhost:5173"]
    assert envoy_config_options(plan)["cors_origins"] == [
        "https://app.example.com",
        "http://localhost:5173",
    ]


def test_the_environment_gives_them_comma_separated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORA_CORS_ORIGINS", "https://a.example, http://[::1]:8080")
    assert _plan_of(tmp_path).cors_origins == ("https://a.example", "http://[::1]:8080")


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "app.example.com",
        "https://app.example.com/",
        "https://app.example.com/path",
        "ftp://x.example",
    ],
)
def test_what_is_not_an_origin_is_refused(origin: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["up", "--cors-origin", origin])
    assert exit_info.value.code == 2
    assert "is not an origin" in capsys.readouterr().err


def test_a_bad_environment_origin_fails_up_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGORA_CORS_ORIGINS", "https://ok.example,*")
    assert main(["up", "--data-dir", str(tmp_path)]) == 1
    assert "AGORA_CORS_ORIGINS: '*' is not an origin" in capsys.readouterr().err
    assert not (tmp_path / "mesh.json").exists()
