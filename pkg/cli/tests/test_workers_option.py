"""``agora up --workers``: how many worker processes each service gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pkg.cli.main import _plan, build_parser
from pkg.runtime import SERVICES, MeshLayout
from pkg.runtime._mesh import default_workers

BASE = 42000


def _worker_ports(tmp_path: Path, *options: str) -> dict[str, list[int]]:
    args = build_parser().parse_args(["up", "--port-base", str(BASE), *options])
    return _plan(args, MeshLayout.at(tmp_path)).ports.workers


def _expected(counts: dict[str, int]) -> dict[str, list[int]]:
    """Worker ``i`` of each registered service on ``BASE + port_offset + 10 * i``."""
    return {
        s.name: [BASE + s.port_offset + 10 * i for i in range(counts[s.name])] for s in SERVICES
    }


def test_default_is_min_of_two_and_the_cores(tmp_path: Path) -> None:
    ports = _worker_ports(tmp_path)
    assert {name: len(p) for name, p in ports.items()} == {
        s.name: default_workers() for s in SERVICES
    }


def test_one_number_applies_to_every_service(tmp_path: Path) -> None:
    ports = _worker_ports(tmp_path, "--workers", "3")
    assert ports == _expected({s.name: 3 for s in SERVICES})
    assert ports["auth"] == [42001, 42011, 42021]
    assert ports["user"] == [42002, 42012, 42022]


def test_per_service_counts_override_the_number(tmp_path: Path) -> None:
    ports = _worker_ports(tmp_path, "--workers", "1,user=3")
    assert ports == _expected({s.name: 3 if s.name == "user" else 1 for s in SERVICES})
    assert ports["auth"] == [42001]
    assert ports["user"] == [42002, 42012, 42022]


@pytest.mark.parametrize("value", ["0", "user=0", "zzunused=2", "user=two", "", "33"])
def test_bad_counts_are_refused_with_a_message(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["up", "--workers", value])
    assert exit_info.value.code == 2
    assert "--workers" in capsys.readouterr().err
