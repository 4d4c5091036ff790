"""Rendering the service template and registering the new service, all checked before
anything is written."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from pkg.registry import DEFAULT_PORT_BASE, PORT_OFFSETS, RegistryError, ServiceSpec, parse_registry
from pkg.scaffold._files import check_writable, write_all
from pkg.scaffold._names import (
    Resource,
    ResourceNameError,
    ScaffoldError,
    ServiceNameError,
    check_name,
    check_resource,
)
from pkg.scaffold._register import REGISTRY, registration

TEMPLATE = Path(__file__).resolve().parent / "template"


@dataclass(frozen=True)
class GeneratedService:
    """What ``new_service`` did: the files it wrote and changed (paths relative to the
    repository), the service's ``port_offset``, and its ``resource``."""

    name: str
    port_offset: int
    written: tuple[str, ...]
    changed: tuple[str, ...]
    resource: Resource


def _context(service: str, resource: Resource, port_offset: int) -> dict[str, str | int]:
    """The template's variables: ``service``/``Service``/``SERVICE`` where the service is
    meant (package, proto package, gRPC services, settings, identity, database, stream),
    ``name``/``Name``/``NAME``/``names``/``Names`` where its resource is (message,
    collection, standard methods, table, events, errors); see the template's README."""
    return {
        "service": service,
        "Service": service.capitalize(),
        "SERVICE": service.upper(),
        "name": resource.singular,
        "Name": resource.singular.capitalize(),
        "names": resource.plural,
        "Names": resource.plural.capitalize(),
        "NAME": resource.singular.upper(),
        "port_offset": port_offset,
        "port": DEFAULT_PORT_BASE + port_offset,
        "today": datetime.date.today().isoformat(),
    }


def _targets(service: str, resource: Resource) -> dict[str, str]:
    """Template path (under ``TEMPLATE``) -> repository path, for every template file.

    File names under ``service/`` may hold ``{{service}}``, ``{{name}}`` and ``{{names}}``.
    Raises ``ResourceNameError`` when two templates would land on one path (a resource
    named after one of the template's own modules, e.g. plural ``ports``).
    """
    targets = {
        "api/service.proto.j2": f"api/agora/{service}/v1/{service}.proto",
        "api/service_events.proto.j2": f"api/agora/{service}/v1/{service}_events.proto",
        "e2e/test_service.py.j2": f"tests/e2e/test_{service}.py",
    }
    for path in sorted((TEMPLATE / "service").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(TEMPLATE).as_posix()
            target = (
                relative.removeprefix("service/")
                .removesuffix(".j2")
                .replace("{{service}}", service)
                .replace("{{names}}", resource.plural)
                .replace("{{name}}", resource.singular)
            )
            targets[relative] = f"services/{service}/{target}"
    clashes = sorted(path for path, count in Counter(targets.values()).items() if count > 1)
    if clashes:
        raise ResourceNameError(
            f"resource {resource.singular!r} (plural {resource.plural!r}) would overwrite "
            f"the template's own {', '.join(clashes)}; choose another resource name"
        )
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


def new_service(
    root: Path, name: str, *, resource: str | None = None, plural: str | None = None
) -> GeneratedService:
    """Generate the domain service ``name`` in the repository at ``root``, serving the
    resource ``resource`` (default: ``name``) in the collection ``plural`` (default:
    ``plural(resource)``), e.g. ``new_service(root, "catalog", resource="product")``:
    package ``services/catalog``, ``agora.catalog.v1.CatalogService`` with ``Product`` and
    ``/v1/products``.

    Renders the contract ``api/agora/<name>/v1/<name>.proto``, the package
    ``services/<name>/`` (domain, service, adapters, entrypoints, migrations, tests) and
    ``tests/e2e/test_<name>.py``, formats the Python (``format_python``), appends the
    service's entry (next free ``port_offset``, own database, ``{data}/<name>/jwks.json`` as
    its JWKS cache, after auth and user) to ``services/registry.toml`` and renders the files
    derived from the table (``pkg.registry``: ``docker-compose.yml``, the ``Dockerfile``, the
    Compose database initialisation). Generated code (``gen/``) is not touched: run ``make gen``.

    Everything is checked before the first write: the table, the name, the resource and
    its plural, a free port offset, no existing target, the templates, ruff, the new table,
    that every target can be written. Then all files are written, or none (``write_all``
    rolls back a failed write). Raises ``ServiceNameError`` for a bad, reserved or existing
    name, ``ResourceNameError`` for a bad, reserved or clashing resource or plural
    (``check_resource``), and ``ScaffoldError`` for any other reason not to go on; in every
    case the tree is as it was.
    """
    table, services = _table(root)
    check_name(root, name, frozenset(spec.name for spec in services))
    checked = check_resource(name, name if resource is None else resource, plural)
    offset = _next_offset(services)
    context = _context(name, checked, offset)
    targets = _targets(name, checked)
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
    return GeneratedService(name, offset, tuple(targets.values()), tuple(registered), checked)
