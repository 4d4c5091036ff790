"""The wheel carries the descriptor set, and an installed project (no source tree) finds it."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from pkg.contracts import descriptor_set

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from pkg.contracts import descriptor_set
from pkg.edge import route_table
from pkg.runtime import _up
path = descriptor_set()
print(json.dumps({"path": str(path), "up": str(_up.descriptor_set()),
                  "routes": len(route_table(path)), "first": sys.path[0]}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel`` of the project, built offline by the locked hatchling."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [built] = out.glob("agora-*.whl")
    return built


def test_the_wheel_carries_the_descriptor_set_as_package_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        packaged = zf.read("agora/agora.binpb")
    assert packaged == (ROOT / "gen" / "agora.binpb").read_bytes()


def test_an_installed_project_finds_the_packaged_descriptor_set(
    wheel: Path, tmp_path: Path
) -> None:
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(installed)
    dependencies = sysconfig.get_paths()["purelib"]
    # -S: no site-packages and so no editable install's .pth; the unpacked wheel comes first,
    # the environment's site-packages (dependencies) after it.
    result = subprocess.run(
        [sys.executable, "-S", "-c", _PROBE],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{installed}:{dependencies}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["path"] == found["up"] == str(installed / "agora" / "agora.binpb")
    assert found["routes"] > 0
    assert not (installed / "gen").exists()


def test_a_source_tree_uses_the_descriptor_set_make_gen_writes() -> None:
    assert descriptor_set() == ROOT / "gen" / "agora.binpb"
