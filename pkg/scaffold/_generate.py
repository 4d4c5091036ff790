"""Rendering the service template and registering the new service."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import jinja2

from pkg.runtime import DEFAULT_PORT_BASE
from pkg.scaffold._names import ServiceNameError, check_name, plural
from pkg.scaffold._register import register

TEMPLATE = Path(__file__).resolve().parent / "template"
MAX_OFFSET = 9


@dataclass(frozen=True)
class GeneratedService:
    """What ``new_service`` did: the files it wrote and changed (paths relative to the
    repository), and the service's ``port_offset``."""

    name: str
    port_offset: int
    written: tuple[str, ...]
    changed: tuple[str, ...]


def _context(name: str, port_offset: int) -> dict[str, str | int]:
    names = plural(name)
    return {"name": name, "Name": name.capitalize(), "names": names,
            "Names": names.capitalize(), "NAME": name.upper(), "port_offset": port_offset,
            "port": DEFAULT_PORT_BASE + port_offset, "today": datetime.date.today().isoformat()}


def _targets(name: str, names: str) -> dict[str, str]:
    """Template path (under ``TEMPLATE``) -> repository path, for every template file."""
    targets = {"api/service.proto.j2": f"api/agora/{name}/v1/{name}.proto",
               "api/service_events.proto.j2": f"api/agora/{name}/v1/{name}_events.proto",
               "e2e/test_service.py.j2": f"tests/e2e/test_{name}.py"}
    for path in sorted((TEMPLATE / "service").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(TEMPLATE).as_posix()
            target = (relative.removeprefix("service/").removesuffix(".j2")
                      .replace("{{names}}", names).replace("{{name}}", name))
            targets[relative] = f"services/{name}/{target}"
    return targets


def _next_offset(registry: list[dict[str, object]]) -> int:
    used = {entry.get("port_offset") for entry in registry}
    for offset in range(1, MAX_OFFSET + 1):
        if offset not in used:
            return offset
    raise ServiceNameError(f"every port offset 1..{MAX_OFFSET} is taken; a tenth service "
                           "needs a wider WORKER_PORT_STRIDE in pkg/runtime")


def isort(*names: str) -> list[str]:
    """``names`` in the order ruff's isort (order-by-type) and RUF022 want them: constants,
    then classes, then the rest, each case-insensitively."""
    return sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2,
                                        n.lower(), n))


def _dunder_all(names: tuple[str, ...]) -> str:
    """An ``__all__`` list in RUF022's order (by type as ``isort``, then case-sensitively)."""
    ordered = sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2,
                                           n))
    return "[" + ", ".join(f'"{n}"' for n in ordered) + "]"


def _ruff() -> str:
    """The ``ruff`` executable that formats generated code: the one installed beside
    this Python (the ``dev`` extra), else the first on ``PATH``; ``ServiceNameError`` when
    there is none, before anything is written."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        found = shutil.which("ruff")
    else:
        found = find_ruff_bin()
    if not found:
        raise ServiceNameError("ruff is needed to format the generated code: install the "
                               "dev extra (pip install -e '.[dev]') or put ruff on PATH")
    return str(found)


def _ruff_config(root: Path) -> list[str]:
    """``--config`` naming the settings generated code is formatted with: the target
    repository's ``pyproject.toml``, else the one of the repository this template is in."""
    for candidate in (root / "pyproject.toml", TEMPLATE.parents[2] / "pyproject.toml"):
        if candidate.is_file():
            return ["--config", str(candidate)]
    return []


def format_python(root: Path, paths: list[str], ruff: str) -> None:
    """Run ``ruff check --fix`` then ``ruff format`` over ``paths`` (relative to
    ``root``), so generated code reads as the repository's lint rules and formatter want.

    Violations that cannot be fixed are left for the tests and ``make lint`` to report;
    ``RuntimeError`` when ruff itself fails (a bad configuration, a syntax error).
    """
    if not paths:
        return
    config = _ruff_config(root)
    for argv in ([ruff, "check", "--fix", "--exit-zero", "--quiet", *config, *paths],
                 [ruff, "format", "--quiet", *config, *paths]):
        result = subprocess.run(argv, cwd=root, capture_output=True, text=True,
                                timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed on the generated code:\n"
                               f"{result.stdout}{result.stderr}")


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE), undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, autoescape=False)  # noqa: S701 - Python/proto/YAML, no HTML
    environment.globals.update(isort=isort, dunder_all=_dunder_all)
    return environment


def new_service(root: Path, name: str) -> GeneratedService:
    """Generate the domain service ``name`` in the repository at ``root``.

    Writes the contract ``api/agora/<name>/v1/<name>.proto``, the package
    ``services/<name>/`` (domain, service, adapters, entrypoints, migrations, tests) and
    ``tests/e2e/test_<name>.py``, formats the Python it wrote (``ruff check --fix``, then
    ``ruff format``; ``format_python``), then registers the service (next free ``port_offset``,
    own database, ``{data}/<name>/jwks.json`` as its JWKS cache) in
    ``services/registry.toml``, ``docker-compose.yml`` (edge ``depends_on`` included), the
    Dockerfile's mount points and the Compose database initialisation (``_register``).
    Generated code (``gen/``) is not touched: run ``make gen``.
    Raises ``ServiceNameError`` for a bad, reserved or existing name, when a target file
    exists or when ruff is not installed (nothing is written then).
    """
    registry_file = root / "services" / "registry.toml"
    registry = tomllib.loads(registry_file.read_text(encoding="utf-8")).get("service", [])
    check_name(root, name, frozenset(str(entry["name"]) for entry in registry))
    offset = _next_offset(registry)
    context = _context(name, offset)
    targets = _targets(name, str(context["names"]))
    existing = [target for target in targets.values() if (root / target).exists()]
    if existing:
        raise ServiceNameError(f"refusing to overwrite {', '.join(existing)}")
    ruff = _ruff()
    environment = _environment()
    for source, target in targets.items():
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        if source.endswith(".j2"):
            path.write_text(environment.get_template(source).render(context), encoding="utf-8")
        else:
            path.write_bytes((TEMPLATE / source).read_bytes())
    format_python(root, sorted(t for t in targets.values() if t.endswith(".py")), ruff)
    compose = {part: environment.get_template(f"compose/{part}.yml.j2").render(context)
               for part in ("env", "services")}
    changed = register(root, name, offset, compose_env=compose["env"],
                       compose_services=compose["services"])
    return GeneratedService(name, offset, tuple(targets.values()), tuple(changed))
