"""The HTTP route table of the public API, derived from the contracts, and its diff.

``python tools/route_table.py write`` renders ``docs/http-routes.md`` from
``gen/agora.binpb`` (``make gen`` runs it; ``make gen-check`` proves it is current).
``python tools/route_table.py breaking --against REV`` compares the route table with the
one at git revision ``REV`` and exits 1 when an HTTP route was removed or now reaches
another RPC or body (DESIGN.md: compatibility is checked for HTTP routes as well as RPCs;
``buf breaking`` only sees the wire).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from pkg.edge import RouteEntry, route_table

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTOR_SET = ROOT / "gen" / "agora.binpb"
DOC = ROOT / "docs" / "http-routes.md"


def _access(entry: RouteEntry) -> str:
    if entry.roles:
        return "roles: " + ", ".join(entry.roles)
    return entry.access.value


def render(entries: list[RouteEntry]) -> str:
    """The Markdown table of ``entries``, one row per HTTP route."""
    lines = [
        "# HTTP routes",
        "",
        "Generated from the contracts by `tools/route_table.py` (`make gen`); do not edit.",
        "Every route is served by the edge over TLS; internal RPCs have none (404).",
        "",
        "| method | path | body | RPC | access | timeout | rate limit |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        limit = f"{e.requests_per_second}/s, burst {e.burst}" if e.requests_per_second else "-"
        lines.append(
            f"| {e.verb} | `{e.template}` | {e.body or '-'} | `{e.rpc}` | "
            f"{_access(e)} | {e.timeout_ms / 1000:g} s | {limit} |"
        )
    return "\n".join(lines) + "\n"


def breaking_changes(old: list[RouteEntry], new: list[RouteEntry]) -> list[str]:
    """Routes of ``old`` that ``new`` removed or re-pointed, as human-readable lines."""
    current = {(e.verb, e.template): e for e in new}
    problems = []
    for e in old:
        now = current.get((e.verb, e.template))
        if now is None:
            problems.append(f"{e.verb} {e.template} was removed (it served {e.rpc})")
        elif (now.rpc, now.body) != (e.rpc, e.body):
            problems.append(
                f"{e.verb} {e.template} now serves {now.rpc} body={now.body!r} "
                f"instead of {e.rpc} body={e.body!r}"
            )
    return problems


def main() -> int:
    """Run ``write`` or ``breaking``; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("write")
    breaking = sub.add_parser("breaking")
    breaking.add_argument("--against", required=True, metavar="REV")
    args = parser.parse_args()
    new = route_table(DESCRIPTOR_SET)
    if args.command == "write":
        DOC.write_text(render(new))
        return 0
    shown = subprocess.run(
        ["git", "show", f"{args.against}:gen/agora.binpb"],
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    if shown.returncode != 0:
        print(f"no descriptor set at {args.against}: nothing to compare")
        return 0
    problems = breaking_changes(route_table(shown.stdout), new)
    for problem in problems:
        print(f"breaking HTTP route change: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
