"""The HTTP route diff that `make breaking` runs beside `buf breaking`."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

from pkg.edge import route_table

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "route_table_tool", ROOT / "tools" / "route_table.py"
)
assert _spec and _spec.loader
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def test_an_unchanged_table_has_no_breaking_changes() -> None:
    routes = route_table(ROOT / "gen" / "agora.binpb")
    assert tool.breaking_changes(routes, routes) == []


def test_removed_and_repointed_routes_are_breaking_and_added_ones_are_not() -> None:
    routes = route_table(ROOT / "gen" / "agora.binpb")
    login = next(r for r in routes if r.template == "/v1/auth:login")
    repointed = dataclasses.replace(login, rpc="/agora.auth.v1.AuthService/Register")
    new = [r for r in routes if r is not login and r.template != "/v1/users"] + [repointed]
    added = dataclasses.replace(login, template="/v2/auth:login")
    problems = tool.breaking_changes(routes, [*new, added])
    assert len(problems) == 2
    assert any("GET /v1/users was removed" in p for p in problems)
    assert any("POST /v1/auth:login now serves" in p for p in problems)


def test_the_committed_route_document_matches_the_contracts() -> None:
    routes = route_table(ROOT / "gen" / "agora.binpb")
    assert (ROOT / "docs" / "http-routes.md").read_text() == tool.render(routes)
