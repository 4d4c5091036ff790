"""Rendering the service template and registering the new service, all checked before
anything is written."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from pkg.registry import DEFAULT_PORT_BASE, PORT_OFFSETS, RegistryError, ServiceSpec, parse_registry
from pkg.scaffold._files import check_writable, write_all
from pkg.scaffold._names import ScaffoldError, ServiceNameError, check_name, plural
from pkg.scaffold._register import REGISTRY, registration

TEMPLATE = Path(__file__).resolve().parent / "template"


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
    return {
        "name": name,
        "Name": name.capitalize(),
        "names": names,
        "Names": names.capitalize(),
        "NAME": name.upper(),
        "port_offset": port_offset,
        "port": DEFAULT_PORT_BASE + port_offset,
        "today": datetime.date.today().isoformat(),
    }


def _targets(name: str, names: str) -> dict[str, str]:
    """Template path (under ``TEMPLATE``) -> repository path, for every template file."""
    targets = {
        "api/service.proto.j2": f"api/agora/{name}/v1/{name}.proto",
        "api/service_events.proto.j2": f"api/agora/{name}/v1/{name}_events.proto",
        "e2e/test_service.py.j2": f"tests/e2e/test_{name}.py",
    }
    for path in sorted((TEMPLATE / "service").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(TEMPLATE).as_posix()
            target = (
                relative.removeprefix("service/")
                .removesuffix(".j2")
                .replace("{{names}}", names)
                .replace("{{name}}", name)
            )
            targets[relative] = f"services/{name}/{target}"
    return targets


def _next_offset(services: Sequence[ServiceSpec]) -> int:
    used = {spec.port_offset for spec in services}
    for offset in PORT_OFFSETS:
        if offset not in used:
            return offset
    raise ScaffoldError(
        f"every port offset {PORT_OFFSETS.start}..{PORT_OFFSETS.stop - 1} is "
        "taken; a tenth service needs a wider WORKER_PORT_STRIDE in pkg/runtime"
    )


def isort(*names: str) -> list[str]:
    """``names`` in the order ruff's isort (order-by-type) and RUF022 want them: constants,
    then classes, then the rest, each case-insensitively."""
    return sorted(
        names, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n.lower(), n)
    )


def _dunder_all(names: tuple[str, ...]) -> str:
    """An ``__all__`` list in RUF022's order (by type as ``isort``, then case-sensitively)."""
    ordered = sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n))
    return "[" + ", ".join(f'"{n}"' for n in ordered) + "]"


def _ruff() -> str:
    """The ``ruff`` executable that formats generated code: the one installed beside
    this Python (the ``dev`` extra), else the first on ``PATH``; ``ScaffoldError`` when
    there is none, before anything is written."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        found = shutil.which("ruff")
    else:
        found = find_ruff_bin()
    if not found:
        raise ScaffoldError(
            "ruff is needed to format the generated code: install the "
            "dev extra (pip install -e '.[dev]') or put ruff on PATH"
        )
    return str(found)


def _ruff_config(root: Path) -> Path | None:
    """The settings generated code is formatted with: the target repository's
    ``pyproject.toml``, else the one of the repository this template is in."""
    for candidate in (root / "pyproject.toml", TEMPLATE.parents[2] / "pyproject.toml"):
        if candidate.is_file():
            return candidate
    return None


def format_python(root: Path, files: Mapping[str, bytes], ruff: str) -> dict[str, bytes]:
    """``files`` (path relative to ``root`` -> Python source) after ``ruff check --fix`` and
    ``ruff format``, so generated code reads as the repository's lint rules and formatter
    want; ``root`` itself is not touched.

    The files are formatted in a scratch folder at the same relative paths, beside a copy of
    the repository's ruff settings (``_ruff_config``), so path-based settings apply as they
    would in the tree. Violations that cannot be fixed are left for the tests and
    ``make lint`` to report; ``ScaffoldError`` when ruff itself fails (a bad configuration,
    a syntax error in the rendered code).
    """
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="agora-new-service-") as scratch:
        stage = Path(scratch)
        config = _ruff_config(root)
        settings = ["--config", str(stage / "pyproject.toml")] if config else []
        if config:
            shutil.copyfile(config, stage / "pyproject.toml")
        for relative, content in files.items():
            (stage / relative).parent.mkdir(parents=True, exist_ok=True)
            (stage / relative).write_bytes(content)
        paths = sorted(files)
        for argv in (
            [ruff, "check", "--fix", "--exit-zero", *settings, *paths],
            [ruff, "format", *settings, *paths],
        ):
            result = subprocess.run(
                argv, cwd=stage, capture_output=True, text=True, timeout=120, check=False
            )
            if result.returncode != 0:
                raise ScaffoldError(
                    f"ruff {argv[1]} failed on the generated code (nothing "
                    f"written):\n{result.stdout}{result.stderr}"
                )
        return {relative: (stage / relative).read_bytes() for relative in paths}


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - Python/proto/YAML, no HTML
    )
    environment.globals.update(isort=isort, dunder_all=_dunder_all)
    return environment


def _render(targets: Mapping[str, str], context: Mapping[str, object]) -> dict[str, bytes]:
    """Repository path -> content of every template file in ``targets``; ``ScaffoldError``
    when a template does not render (a syntax error, an undefined variable)."""
    environment = _environment()
    rendered = {}
    for source, target in targets.items():
        try:
            rendered[target] = (
                environment.get_template(source).render(context).encode()
                if source.endswith(".j2")
                else (TEMPLATE / source).read_bytes()
            )
        except jinja2.TemplateError as exc:
            raise ScaffoldError(
                f"template {source} does not render (nothing written): {exc}"
            ) from exc
    return rendered


def _table(root: Path) -> tuple[str, tuple[ServiceSpec, ...]]:
    path = root / REGISTRY
    try:
        text = path.read_text(encoding="utf-8")
        return text, parse_registry(text, path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ScaffoldError(f"cannot read the service table {path}: {exc}") from exc
    except RegistryError as exc:
        raise ScaffoldError(f"{exc} (fix the table first; nothing written)") from exc


def new_service(root: Path, name: str) -> GeneratedService:
    """Generate the domain service ``name`` in the repository at ``root``.

    Renders the contract ``api/agora/<name>/v1/<name>.proto``, the package
    ``services/<name>/`` (domain, service, adapters, entrypoints, migrations, tests) and
    ``tests/e2e/test_<name>.py``, formats the Python (``format_python``), appends the
    service's entry (next free ``port_offset``, own database, ``{data}/<name>/jwks.json`` as
    its JWKS cache, after auth and user) to ``services/registry.toml`` and renders the files
    derived from the table (``pkg.registry``: ``docker-compose.yml``, the ``Dockerfile``, the
    Compose database initialisation). Generated code (``gen/``) is not touched: run ``make gen``.

    Everything is checked before the first write: the table, the name, a free port offset,
    no existing target, the templates, ruff, the new table, that every target can be
    written. Then all files are written, or none (``write_all`` rolls back a failed write).
    Raises ``ServiceNameError`` for a bad, reserved or existing name and ``ScaffoldError``
    for any other reason not to go on; in both cases the tree is as it was.
    """
    table, services = _table(root)
    check_name(root, name, frozenset(spec.name for spec in services))
    offset = _next_offset(services)
    context = _context(name, offset)
    targets = _targets(name, str(context["names"]))
    existing = [target for target in targets.values() if (root / target).exists()]
    if existing:
        raise ServiceNameError(f"refusing to overwrite {', '.join(existing)}")
    ruff = _ruff()
    files = _render(targets, context)
    files.update(format_python(root, {t: c for t, c in files.items() if t.endswith(".py")}, ruff))
    registered = registration(root, table, name, offset)
    files.update(registered)
    check_writable(root, list(files))
    write_all(root, files)
    return GeneratedService(name, offset, tuple(targets.values()), tuple(registered))
