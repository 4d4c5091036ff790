"""The lock files (`make lock`) cover pyproject.toml, and the environment is installed from them."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pins(lock: Path) -> dict[str, tuple[Requirement, list[str]]]:
    """``name -> (pinned requirement, sha256 hashes)`` from a hashed requirements file."""
    pins: dict[str, tuple[Requirement, list[str]]] = {}
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *hashes = re.split(r"\s+--hash=", line)
        requirement = Requirement(spec)
        pins[canonicalize_name(requirement.name)] = (requirement, hashes)
    return pins


def _inputs(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def _project_requirements(extras: set[str]) -> list[Requirement]:
    """The project's dependencies and those of ``extras`` (``agora[...]`` expanded)."""
    project = PYPROJECT["project"]
    result = [Requirement(r) for r in project["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for raw in project["optional-dependencies"][extra]:
            requirement = Requirement(raw)
            if canonicalize_name(requirement.name) == "agora":
                todo.extend(requirement.extras)
            else:
                result.append(requirement)
    return result


BUILD = _inputs(REQUIREMENTS / "build.in")
TEST_LOCK = _pins(REQUIREMENTS / "test.lock")
RUNTIME_LOCK = _pins(REQUIREMENTS / "runtime.lock")


def _pinned_version(requirement: Requirement) -> Version:
    [specifier] = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned to one version"
    return Version(specifier.version)


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [
        (TEST_LOCK, [*_project_requirements({"test"}), *BUILD, *_inputs(REQUIREMENTS / "lock.in")]),
        (RUNTIME_LOCK, [*_project_requirements(set()), *BUILD]),
    ],
    ids=["test.lock", "runtime.lock"],
)
def test_every_requirement_is_pinned_with_hashes_to_a_version_it_allows(
    lock: dict[str, tuple[Requirement, list[str]]], wanted: list[Requirement]
) -> None:
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{requirement} is missing from the lock: run make lock"
        pinned, hashes = lock[name]
        assert requirement.specifier.contains(_pinned_version(pinned), prereleases=True), (
            f"the lock pins {pinned}, pyproject.toml wants {requirement}: run make lock"
        )
        assert hashes and all(h.startswith("sha256:") for h in hashes), pinned
    for pinned, hashes in lock.values():
        _pinned_version(pinned)
        assert hashes, f"{pinned} has no hash"


def test_the_build_backend_pyproject_names_is_locked() -> None:
    for raw in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(raw)
        assert any(
            canonicalize_name(b.name) == canonicalize_name(requirement.name) for b in BUILD
        ), f"{requirement} is not in requirements/build.in"


def test_the_image_gets_the_same_versions_as_the_test_environment() -> None:
    for name, (pinned, hashes) in RUNTIME_LOCK.items():
        assert name in TEST_LOCK, f"{pinned} is only in runtime.lock"
        assert str(TEST_LOCK[name][0].specifier) == str(pinned.specifier), name
        assert sorted(TEST_LOCK[name][1]) == sorted(hashes), name


def test_the_running_environment_was_installed_from_the_lock() -> None:
    environment = default_environment()
    drifted = []
    for name, (pinned, _) in TEST_LOCK.items():
        if pinned.marker is not None and not pinned.marker.evaluate(environment):
            continue
        installed = importlib.metadata.version(name)
        if Version(installed) != _pinned_version(pinned):
            drifted.append(f"{name} {installed} (lock: {_pinned_version(pinned)})")
    assert not drifted, f"installed versions differ from requirements/test.lock: {drifted}"
