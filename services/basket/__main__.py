"""``python -m services.basket [serve | migrate]``.

- ``serve`` (the default): run the gRPC server until SIGTERM or SIGINT.
- ``migrate``: apply the Alembic migrations to ``AGORA_BASKET_DATABASE_URL`` and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from pkg.config import MeshSettings
from pkg.obs import configure_logging, get_logger
from services.basket.app import build
from services.basket.config import BasketSettings

_log = get_logger("agora.basket")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.basket", description="Agora's basket service"
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve gRPC (default)")
    commands.add_parser("migrate", help="alembic upgrade head, then exit")
    return parser


async def _serve(settings: BasketSettings, mesh: MeshSettings) -> None:
    server = build(settings, mesh)
    await server.serve_until_signalled()


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv``; return the exit status."""
    args = _parser().parse_args(argv)
    mesh = MeshSettings()
    settings = BasketSettings()
    configure_logging("basket", mesh.log_level, mesh.log_file)
    if args.command == "migrate":
        from services.basket.adapters.schema import upgrade_database

        upgrade_database(settings.database_url)
        _log.info("migrated", extra={"revision": "head"})
        return 0
    asyncio.run(_serve(settings, mesh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
