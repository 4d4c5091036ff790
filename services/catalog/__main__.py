"""``python -m services.catalog [serve | migrate]``.

- ``serve`` (the default): run the gRPC server until SIGTERM or SIGINT.
- ``migrate``: apply the Alembic migrations to ``AGORA_CATALOG_DATABASE_URL`` and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from pkg.config import MeshSettings
from pkg.obs import configure_logging, get_logger
from services.catalog.app import build
from services.catalog.config import CatalogSettings

_log = get_logger("agora.catalog")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.catalog", description="Agora's catalog service"
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve gRPC (default)")
    commands.add_parser("migrate", help="alembic upgrade head, then exit")
    return parser


async def _serve(settings: CatalogSettings, mesh: MeshSettings) -> None:
    server = build(settings, mesh)
    await server.serve_until_signalled()


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv``; return the exit status."""
    args = _parser().parse_args(argv)
    mesh = MeshSettings()
    settings = CatalogSettings()
    configure_logging("catalog", mesh.log_level, mesh.log_file)
    if args.command == "migrate":
        from services.catalog.adapters.schema import upgrade_database

        upgrade_database(settings.database_url)
        _log.info("migrated", extra={"revision": "head"})
        return 0
    asyncio.run(_serve(settings, mesh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
