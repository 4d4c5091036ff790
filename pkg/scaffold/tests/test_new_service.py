"""``agora new-service``: which names it refuses, what it writes and registers, and that it
never overwrites (the full generated service is tested in tests/scaffold)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
import yaml

from pkg.cli.main import main
from pkg.registry import DEFAULT_PORT_BASE, PORT_OFFSETS, load_registry, stale_files
from pkg.runtime._mesh import load_services
from pkg.scaffold import (
    RESERVED_RESOURCES,
    GeneratedService,
    Resource,
    ResourceNameError,
    ScaffoldError,
    ServiceNameError,
    new_service,
    plural,
)

REPO = Path(__file__).resolve().parents[3]
REGISTERED = (
    "services/registry.toml",
    "docker-compose.yml",
    "deploy/compose/postgres-initdb/10-databases.sql",
    "Dockerfile",
)
SERVICES = load_registry(REPO / "services" / "registry.toml")
"""The services registered in the repository (the skeleton's table is a copy)."""
FREE_OFFSETS = [o for o in PORT_OFFSETS if o not in {s.port_offset for s in SERVICES}]
"""The port offsets no registered service takes, lowest first: a new service takes the
first."""
GENERATED = ("category", "showroom", "widget", "crm", "chat")
"""The services these tests generate: none may be registered."""


def test_the_names_these_tests_generate_are_not_services() -> None:
    assert not set(GENERATED) & {s.name for s in SERVICES}
    assert len(FREE_OFFSETS) >= 2, "two generated services need two free port offsets"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository skeleton: the files ``new_service`` reads and changes, and every
    registered service's folder."""
    for name in REGISTERED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    for service in SERVICES:
        (tmp_path / "services" / service.name).mkdir()
    return tmp_path


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (``None``) under ``root``."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Widget", "lower-case"),
        ("2fast", "starting with a letter"),
        ("w", "2 to 30"),
        ("order_item", "lower-case letters and digits"),
        ("x" * 31, "2 to 30"),
        ("", "not a service name"),
        ("class", "reserved"),
        ("pkg", "reserved"),
        ("edge", "reserved"),
        *[(s.name, "exists already") for s in SERVICES],
    ],
)
def test_bad_names_are_refused_with_a_reason_and_nothing_is_written(
    root: Path, name: str, says: str
) -> None:
    before = _snapshot(root)
    with pytest.raises(ServiceNameError, match=says):
        new_service(root, name)
    assert _snapshot(root) == before


def test_an_existing_folder_is_never_overwritten(root: Path) -> None:
    (root / "api" / "agora" / "category").mkdir(parents=True)
    before = _snapshot(root)
    with pytest.raises(ServiceNameError, match="exists already; refusing to overwrite"):
        new_service(root, "category")
    assert _snapshot(root) == before


def test_the_cli_refuses_a_second_run_with_exit_status_2(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-service", "category", "--root", str(root)]) == 0
    after_first = _snapshot(root)
    assert main(["new-service", "category", "--root", str(root)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert _snapshot(root) == after_first


def test_generation_writes_the_shape_and_registers_the_service(root: Path) -> None:
    generated = new_service(root, "category")
    offset = FREE_OFFSETS[0]
    port = DEFAULT_PORT_BASE + offset
    assert generated.port_offset == offset
    for path in (
        "api/agora/category/v1/category.proto",
        "api/agora/category/v1/category_events.proto",
        "services/category/app.py",
        "services/category/service/categories.py",
        "services/category/migrations/versions/0001_create_categories.py",
        "services/category/tests/fakes.py",
        "tests/e2e/test_category.py",
    ):
        assert path in generated.written and (root / path).is_file(), path
    assert set(generated.changed) == set(REGISTERED)
    spec = load_services(root / "services" / "registry.toml")[-1]
    assert (spec.name, spec.port_offset, spec.database, spec.redis, spec.module) == (
        "category",
        offset,
        True,
        True,
        "services.category",
    )
    assert dict(spec.env) == {"AGORA_CATEGORY_JWKS_CACHE_FILE": "{data}/category/jwks.json"}
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["category"]["command"] == ["services.category"]
    assert services["category-migrate"]["command"] == ["services.category", "migrate"]
    env = services["category"]["environment"]
    assert env["AGORA_CATEGORY_LISTEN"] == f"0.0.0.0:{port}"
    assert json.loads(env["AGORA_ENDPOINTS"])["category"] == f"dns:///category:{port}"
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
    for peer in ("auth", "user"):
        assert services["category"]["depends_on"][peer] == {"condition": "service_healthy"}
    assert json.loads(env["AGORA_ENDPOINTS"])["user"] == "dns:///user:50052"
    for spec in SERVICES:
        assert json.loads(env["AGORA_ENDPOINTS"])[spec.name] == (
            f"dns:///{spec.name}:{DEFAULT_PORT_BASE + spec.port_offset}"
        )
    assert {"/data/certs/category", "/data/category"} <= _mount_points(root)
    assert "CREATE DATABASE agora_category;" in (root / REGISTERED[2]).read_text()
    assert (
        'pattern: "categories/{category}"'
        in (root / "api/agora/category/v1/category.proto").read_text()
    )


def test_the_second_generated_service_takes_the_next_port_offset(root: Path) -> None:
    assert new_service(root, "category").port_offset == FREE_OFFSETS[0]
    assert new_service(root, "showroom").port_offset == FREE_OFFSETS[1]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    registered = {s.name for s in SERVICES}
    assert {*registered, "category", "showroom"} <= set(compose["services"]["edge"]["depends_on"])
    assert {"user-data", "category-data", "showroom-data"} <= set(compose["volumes"])
    assert {
        "/data/user",
        *(f"/data/certs/{name}" for name in registered),
        "/data/category",
        "/data/certs/category",
        "/data/showroom",
        "/data/certs/showroom",
    } <= _mount_points(root)


def _mount_points(root: Path) -> set[str]:
    """The folders the Dockerfile creates for the agora user."""
    [line] = [
        line
        for line in (root / "Dockerfile").read_text().splitlines()
        if "install -d -o agora -g agora -m 0700" in line
    ]
    return {word for word in line.split() if word.startswith("/data/")}


@pytest.mark.parametrize(
    ("noun", "expected"),
    [
        ("widget", "widgets"),
        ("category", "categories"),
        ("day", "days"),
        ("box", "boxes"),
        ("match", "matches"),
        ("bus", "buses"),
    ],
)
def test_plural_collection_ids(noun: str, expected: str) -> None:
    assert plural(noun) == expected


def _ruff(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *argv, "--config", str(REPO / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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
        raise ScaffoldError("ruff is needed to format the generated code")

    monkeypatch.setattr(_generate, "_ruff", missing)
    before = _snapshot(root)
    with pytest.raises(ScaffoldError, match="ruff"):
        new_service(root, "category")
    assert _snapshot(root) == before


def test_the_registration_is_the_registry_and_what_is_derived_from_it(root: Path) -> None:
    new_service(root, "category")
    assert stale_files(root) == [], "new-service leaves no derived file stale"
    [spec] = [
        spec
        for spec in load_registry(root / "services" / "registry.toml")
        if spec.name == "category"
    ]
    assert spec.depends_on == ("auth", "user")
    assert (
        (root / "docker-compose.yml")
        .read_text()
        .startswith("# Generated by `python -m pkg.registry write`")
    )


def test_the_generated_service_has_no_type_ignores(root: Path) -> None:
    generated = new_service(root, "category")
    code = [path for path in generated.written if path.endswith(".py") and "/tests/" not in path]
    assert code
    marked = [path for path in code if "type: ignore" in (root / path).read_text()]
    assert not marked, f"mypy --strict warns about unused ignores: {marked}"


TABLE = """[[service]]
name = "auth"
port_offset = 1
redis = true

[[service]]
name = "user"
port_offset = 2
database = true
"""
"""A good service table with auth and user, for the tests that break one line of it."""


@pytest.mark.parametrize(
    ("line", "broken", "says"),
    [
        ("database = true", 'database = "yes"', "not a boolean"),
        ("port_offset = 2", "port_offset = 12", "1..9"),
        ("database = true", 'database = true\ncolour = "red"', "unknown key"),
        ("database = true", 'database = true\ndepends_on = ["nobody"]', "not a service"),
    ],
)
def test_a_broken_registry_is_refused_and_nothing_is_written(
    root: Path, line: str, broken: str, says: str
) -> None:
    (root / "services" / "registry.toml").write_text(TABLE.replace(line, broken))
    before = _snapshot(root)
    with pytest.raises(ScaffoldError, match=says):
        new_service(root, "category")
    assert _snapshot(root) == before


@pytest.mark.parametrize(
    ("blocker", "says"),
    [
        ("tests", "tests is not a folder"),
        ("Dockerfile/", "Dockerfile is not a writable file"),
    ],
)
def test_an_unwritable_target_is_found_before_anything_is_written(
    root: Path, blocker: str, says: str
) -> None:
    """A file where a folder must go (``tests``), a folder where a file must go: both bind
    every account, root included (permission bits would not)."""
    path = root / blocker.rstrip("/")
    path.unlink(missing_ok=True)
    if blocker.endswith("/"):
        path.mkdir()
    else:
        path.write_text("not a folder\n")
    before = _snapshot(root)
    with pytest.raises(ScaffoldError, match=says):
        new_service(root, "category")
    assert _snapshot(root) == before


def test_a_write_that_fails_late_is_rolled_back(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last file fails to write, after the service folder, the contract, the registry
    and the other derived files were written: all of them are undone, folders included."""
    from pkg.scaffold import _files

    written: list[str] = []
    real = _files.write_file

    def failing(path: Path, content: bytes) -> None:
        written.append(path.relative_to(root).as_posix())
        if path.name == "10-databases.sql":
            raise OSError(28, "No space left on device")
        real(path, content)

    monkeypatch.setattr(_files, "write_file", failing)
    before = _snapshot(root)
    with pytest.raises(ScaffoldError, match="nothing was changed"):
        new_service(root, "category")
    assert written[-1].endswith("10-databases.sql")
    assert {
        "services/category/app.py",
        "services/registry.toml",
        "docker-compose.yml",
        "Dockerfile",
    } <= set(written), "the failure came after the other writes"
    assert _snapshot(root) == before


@pytest.mark.parametrize(
    ("template", "text", "says"),
    [
        ("service/app.py.j2", "def broken(:\n", "ruff"),
        ("service/config.py.j2", "{{ no_such_variable }}\n", "does not render"),
    ],
)
def test_a_template_that_fails_is_refused_and_nothing_is_written(
    root: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    template: str,
    text: str,
    says: str,
) -> None:
    from pkg.scaffold import _generate

    broken = tmp_path_factory.mktemp("template") / "template"
    shutil.copytree(_generate.TEMPLATE, broken)
    with (broken / template).open("a") as out:
        out.write(text)
    monkeypatch.setattr(_generate, "TEMPLATE", broken)
    before = _snapshot(root)
    with pytest.raises(ScaffoldError, match=says):
        new_service(root, "category")
    assert _snapshot(root) == before


def test_a_new_table_that_breaks_a_rule_is_refused(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pkg.scaffold import _register

    monkeypatch.setattr(
        _register,
        "registry_entry",
        lambda name, offset: (
            f'\n[[service]]\nname = "{name}"\nport_offset = {offset}\nredis = "no"\n'
        ),
    )
    before = _snapshot(root)
    with pytest.raises(ScaffoldError, match="not a boolean"):
        new_service(root, "category")
    assert _snapshot(root) == before


def _written(root: Path, generated: GeneratedService) -> dict[str, str]:
    return {path: (root / path).read_text() for path in generated.written}


def test_the_service_and_its_resource_land_where_each_is_meant(root: Path) -> None:
    generated = new_service(root, "showroom", resource="product")
    assert generated.resource == Resource("product", "products")
    files = _written(root, generated)
    for path in (
        "api/agora/showroom/v1/showroom.proto",
        "api/agora/showroom/v1/showroom_events.proto",
        "services/showroom/service/products.py",
        "services/showroom/migrations/versions/0001_create_products.py",
        "services/showroom/tests/unit/test_products.py",
        "services/showroom/tests/contract/test_showroom_service.py",
        "tests/e2e/test_showroom.py",
    ):
        assert path in files, path
    assert all(
        p.startswith(("services/showroom/", "api/agora/showroom/", "tests/e2e/")) for p in files
    )
    proto = files["api/agora/showroom/v1/showroom.proto"]
    for text in (
        "package agora.showroom.v1;",
        "service ShowroomService {",
        "service ShowroomInternalService {",
        "rpc CreateProduct(CreateProductRequest) returns (Product) {",
        'post: "/v1/products"',
        'get: "/v1/{name=products/*}"',
        "message Product {",
        'pattern: "products/{product}"',
        'callers: ["showroom"]',
        "ERROR_REASON_PRODUCT_NOT_FOUND = 1;",
    ):
        assert text in proto, text
    events = files["api/agora/showroom/v1/showroom_events.proto"]
    assert "message ProductCreated {" in events and "`agora:events:{showroom}`" in events
    assert '__tablename__ = "products"' in files["services/showroom/adapters/orm.py"]
    assert '"products",' in files["services/showroom/migrations/versions/0001_create_products.py"]
    config = files["services/showroom/config.py"]
    assert "class ShowroomSettings(" in config and 'env_prefix="AGORA_SHOWROOM_"' in config
    assert "/agora_showroom" in config
    app = files["services/showroom/app.py"]
    assert 'IDENTITY = "showroom"' in app and "ShowroomServicer(products, statistics)" in app
    errors = files["services/showroom/domain/errors.py"]
    assert "class ProductNotFound(NotFound):" in errors
    assert "reason = ShowroomReason.PRODUCT_NOT_FOUND" in errors
    repository = files["services/showroom/adapters/repository.py"]
    assert "class SqlProductRepository:" in repository and "class SqlShowroomQueries:" in repository
    for path, text in files.items():
        for wrong in (
            "services.product",
            "agora.product",
            "AGORA_PRODUCT_",
            "agora_product",
            "ProductService",
            "class Showroom(",
            "message Showroom ",
            "/v1/showrooms",
        ):
            assert wrong not in text, f"{wrong!r} in {path}"
    spec = load_services(root / "services" / "registry.toml")[-1]
    assert (spec.name, spec.module) == ("showroom", "services.showroom")
    assert "CREATE DATABASE agora_showroom;" in (root / REGISTERED[2]).read_text()


def test_an_irregular_plural_is_the_collection_id_and_the_module(root: Path) -> None:
    generated = new_service(root, "crm", resource="person", plural="people")
    assert generated.resource == Resource("person", "people")
    proto = (root / "api/agora/crm/v1/crm.proto").read_text()
    assert 'post: "/v1/people"' in proto and "rpc ListPeople(ListPeopleRequest)" in proto
    assert (root / "services/crm/service/people.py").is_file()
    assert '__tablename__ = "people"' in (root / "services/crm/adapters/orm.py").read_text()


@pytest.mark.parametrize(
    ("resource", "plural_", "says"),
    [
        ("Product", None, "not a resource name"),
        ("order_item", None, "lower-case letters and digits"),
        ("p", None, "2 to 30"),
        ("class", None, "reserved"),
        ("pkg", None, "reserved"),
        ("key", None, "reserved"),
        ("request", None, "reserved"),
        ("account", None, "reserved"),
        ("user", None, "reserved"),
        ("showroomservice", None, "ShowroomService"),
        ("showroomsettings", None, "ShowroomSettings"),
        ("product", "Products", "not a plural name"),
        ("product", "product-s", "not a plural name"),
        ("product", "", "not a plural name"),
        ("product", "ports", "reserved"),
        ("product", "showroomqueries", "ShowroomQueries"),
        ("sheep", "sheep", "distinct --plural"),
        ("thing", "main", "overwrite"),
    ],
)
def test_bad_resource_names_are_refused_and_nothing_is_written(
    root: Path, resource: str, plural_: str | None, says: str
) -> None:
    before = _snapshot(root)
    with pytest.raises(ResourceNameError, match=says):
        new_service(root, "showroom", resource=resource, plural=plural_)
    assert _snapshot(root) == before


def test_the_cli_takes_the_resource_and_refuses_a_bad_one_with_exit_status_2(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(root)
    assert main(["new-service", "showroom", "--resource", "key", "--root", str(root)]) == 2
    assert "resource 'key' is reserved" in capsys.readouterr().err
    assert _snapshot(root) == before
    argv = ["new-service", "chat", "--resource", "conversation", "--root", str(root)]
    assert main(argv) == 0
    assert "resource 'conversation', collection 'conversations'" in capsys.readouterr().out
    assert (root / "services/chat/service/conversations.py").is_file()


def test_every_single_word_class_of_the_template_is_a_reserved_resource() -> None:
    """A resource's class is one capitalised word (``Product``); one the template already
    has (``Statistics``, ``Message``, ``Event``) would be shadowed, so it is reserved."""
    from pkg.scaffold import _generate

    sentinel = Resource("zqres", "zqress")
    context = _generate._context("zqsvc", sentinel, 3)
    files = _generate._render(_generate._targets("zqsvc", sentinel), context)
    words: set[str] = set()
    for path, content in files.items():
        text = content.decode()
        if path.endswith(".py"):
            tokens = tokenize.generate_tokens(io.StringIO(text).readline)
            words |= {token.string for token in tokens if token.type == tokenize.NAME}
        elif path.endswith(".proto"):
            words |= set(re.findall(r"\w+", re.sub(r"//.*", "", text)))
    classes = {w.lower() for w in words if re.fullmatch(r"[A-Z][a-z0-9]+", w)}
    assert {"statistics", "message", "none"} <= classes, "the render's code was read"
    assert {c for c in classes if "zq" not in c} - RESERVED_RESOURCES == set()
