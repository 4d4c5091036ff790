"""``agora new-service``: which names it refuses, what it writes and registers, and that it
never overwrites (the full generated service is tested in tests/scaffold)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pkg.cli.main import main
from pkg.runtime._mesh import load_services
from pkg.scaffold import ServiceNameError, new_service, plural

REPO = Path(__file__).resolve().parents[3]
REGISTERED = ("services/registry.toml", "docker-compose.yml",
              "deploy/compose/postgres-initdb/10-databases.sql", "Dockerfile")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository skeleton: the files ``new_service`` reads and changes, and the two
    existing services' folders."""
    for name in REGISTERED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    for service in ("auth", "user"):
        (tmp_path / "services" / service).mkdir()
    return tmp_path


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("name", "says"), [
    ("Widget", "lower-case"), ("2fast", "starting with a letter"), ("w", "2 to 30"),
    ("order_item", "lower-case letters and digits"), ("x" * 31, "2 to 30"),
    ("", "not a service name"), ("class", "reserved"), ("pkg", "reserved"),
    ("edge", "reserved"), ("user", "exists already"), ("auth", "exists already"),
])
def test_bad_names_are_refused_with_a_reason_and_nothing_is_written(
        root: Path, name: str, says: str) -> None:
    before = _snapshot(root)
    with pytest.raises(ServiceNameError, match=says):
        new_service(root, name)
    assert _snapshot(root) == before


def test_an_existing_folder_is_never_overwritten(root: Path) -> None:
    (root / "api" / "agora" / "catalog").mkdir(parents=True)
    before = _snapshot(root)
    with pytest.raises(ServiceNameError, match="exists already"):
        new_service(root, "catalog")
    assert _snapshot(root) == before


def test_the_cli_refuses_a_second_run_with_exit_status_2(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-service", "catalog", "--root", str(root)]) == 0
    after_first = _snapshot(root)
    assert main(["new-service", "catalog", "--root", str(root)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert _snapshot(root) == after_first


def test_generation_writes_the_shape_and_registers_the_service(root: Path) -> None:
    generated = new_service(root, "category")
    assert generated.port_offset == 3
    for path in ("api/agora/category/v1/category.proto",
                 "api/agora/category/v1/category_events.proto", "services/category/app.py",
                 "services/category/service/categories.py",
                 "services/category/migrations/versions/0001_create_categories.py",
                 "services/category/tests/fakes.py", "tests/e2e/test_category.py"):
        assert path in generated.written and (root / path).is_file(), path
    assert set(generated.changed) == set(REGISTERED)
    spec = load_services(root / "services" / "registry.toml")[-1]
    assert (spec.name, spec.port_offset, spec.database, spec.redis, spec.module) == (
        "category", 3, True, True, "services.category")
    assert dict(spec.env) == {"AGORA_CATEGORY_JWKS_CACHE_FILE": "{data}/category/jwks.json"}
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["category"]["command"] == ["services.category"]
    assert services["category-migrate"]["command"] == ["services.category", "migrate"]
    env = services["category"]["environment"]
    assert env["AGORA_CATEGORY_LISTEN"] == "0.0.0.0:50053"
    assert json.loads(env["AGORA_ENDPOINTS"])["category"] == "dns:///category:50053"
    assert env["AGORA_CATEGORY_JWKS_CACHE_FILE"] == "/data/category/jwks.json"
    assert env["AGORA_CATEGORY_REDIS_URL"] == "redis://redis:6379/0"
    assert "category-data:/data/category" in services["category"]["volumes"]
    assert "category-data" in compose["volumes"]
    assert "certs-category:/data/certs:ro" in services["category"]["volumes"]
    assert "volumes" not in services["category-migrate"], "migrations need no certificate"
    assert "certs-category" in compose["volumes"]
    for job in ("certs", "certs-renew"):
        assert "certs-category:/data/certs/category" in services[job]["volumes"]
    assert services["category"]["healthcheck"]["test"][-2:] == ["--identity", "category"]
    assert services["edge"]["depends_on"]["category"] == {"condition": "service_healthy"}
    assert "/data/user /data/category /data/certs/category\n" in (
        root / "Dockerfile").read_text()
    assert "CREATE DATABASE agora_category;" in (root / REGISTERED[2]).read_text()
    assert 'pattern: "categories/{category}"' in (
        root / "api/agora/category/v1/category.proto").read_text()


def test_the_second_generated_service_takes_the_next_port_offset(root: Path) -> None:
    assert new_service(root, "catalog").port_offset == 3
    assert new_service(root, "basket").port_offset == 4
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    assert {"auth", "user", "catalog", "basket"} <= set(compose["services"]["edge"]["depends_on"])
    assert {"user-data", "catalog-data", "basket-data"} <= set(compose["volumes"])
    assert ("/data/user /data/catalog /data/certs/catalog /data/basket /data/certs/basket\n"
            in (root / "Dockerfile").read_text())


@pytest.mark.parametrize(("noun", "expected"), [
    ("widget", "widgets"), ("category", "categories"), ("day", "days"), ("box", "boxes"),
    ("match", "matches"), ("bus", "buses")])
def test_plural_collection_ids(noun: str, expected: str) -> None:
    assert plural(noun) == expected


def _ruff(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *argv, "--config",
                           str(REPO / "pyproject.toml")], cwd=root, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_generated_python_is_formatted_and_lint_clean(root: Path) -> None:
    generated = new_service(root, "category")
    python = [path for path in generated.written if path.endswith(".py")]
    assert "services/category/__main__.py" in python
    formatted = _ruff(root, "format", "--check", *python)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    linted = _ruff(root, "check", *python)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_a_generated_service_logs_into_the_mesh_log_file(root: Path) -> None:
    new_service(root, "category")
    main_module = (root / "services/category/__main__.py").read_text()
    assert "mesh.log_file" in main_module
    assert (root / "services/category/tests/unit/test_main.py").is_file()


def test_without_ruff_nothing_is_written(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pkg.scaffold import _generate

    def missing() -> str:
        raise ServiceNameError("ruff is needed to format the generated code")

    monkeypatch.setattr(_generate, "_ruff", missing)
    before = _snapshot(root)
    with pytest.raises(ServiceNameError, match="ruff"):
        new_service(root, "category")
    assert _snapshot(root) == before
