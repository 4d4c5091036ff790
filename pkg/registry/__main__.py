"""``python -m pkg.registry [write | check] [--root DIR]``: the files derived from
``services/registry.toml``.

``write`` rewrites the stale ones and prints their paths; ``check`` prints the stale ones
and exits 1 when there are any (``make gen-check``). Exit status 2 for a bad table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pkg.registry._derive import GENERATED_BY, stale_files, write_derived
from pkg.registry._load import RegistryError


def main(argv: list[str] | None = None) -> int:
    """Run ``write`` or ``check`` (``argv``, default ``sys.argv[1:]``); return the exit
    status."""
    parser = argparse.ArgumentParser(prog="python -m pkg.registry", description=__doc__)
    parser.add_argument("command", choices=("write", "check"))
    parser.add_argument(
        "--root", type=Path, default=Path(), help="the repository (default: the current directory)"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "write":
            for path in write_derived(args.root):
                print(f"wrote {path}")
            return 0
        stale = stale_files(args.root)
    except (RegistryError, OSError) as error:
        print(f"python -m pkg.registry: {error}", file=sys.stderr)
        return 2
    for path in stale:
        print(f"{path} is stale: run `{GENERATED_BY}` and commit it", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
