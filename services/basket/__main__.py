"""``python -m services.basket [serve]``: run the gRPC server until SIGTERM or SIGINT.

The basket keeps its state in Redis: there is nothing to migrate.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from pkg.config import MeshSettings
from pkg.obs import configure_logging
from services.basket.app import build
from services.basket.config import BasketSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.basket", description="Agora's basket service"
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve gRPC (default)")
    return parser


async def _serve(settings: BasketSettings, mesh: MeshSettings) -> None:
    server = build(settings, mesh)
    await server.serve_until_signalled()


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv``; return the exit status."""
    _parser().parse_args(argv)
    mesh = MeshSettings()
    settings = BasketSettings()
    configure_logging("basket", mesh.log_level, mesh.log_file)
    asyncio.run(_serve(settings, mesh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
