"""``python -m services.user [serve | migrate | create-admin ...]``.

- ``serve`` (the default): run the gRPC server until SIGTERM or SIGINT.
- ``migrate``: apply the Alembic migrations to ``AGORA_USER_DATABASE_URL`` and exit.
- ``create-admin --email E --display-name N [--password P]``: create an admin user
  (the password is asked for when not given); exit status 1 with a message when refused.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from pkg.config import MeshSettings
from pkg.errors import DomainError
from pkg.obs import configure_logging, get_logger
from services.user.app import build, create_admin
from services.user.config import UserSettings

_log = get_logger("agora.user")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.user", description="Agora's user service"
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve gRPC (default)")
    commands.add_parser("migrate", help="alembic upgrade head, then exit")
    admin = commands.add_parser("create-admin", help="create an admin user, then exit")
    admin.add_argument("--email", required=True)
    admin.add_argument("--display-name", required=True)
    admin.add_argument("--password", help="asked for on the terminal when left out")
    return parser


async def _serve(settings: UserSettings, mesh: MeshSettings) -> None:
    server = build(settings, mesh)
    await server.serve_until_signalled()


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv``; return the exit status."""
    args = _parser().parse_args(argv)
    mesh = MeshSettings()
    settings = UserSettings()
    configure_logging("user", mesh.log_level, mesh.log_file)
    if args.command == "migrate":
        from services.user.adapters.schema import upgrade_database

        upgrade_database(settings.database_url)
        _log.info("migrated", extra={"revision": "head"})
        return 0
    if args.command == "create-admin":
        password = args.password or getpass.getpass("password: ")
        try:
            user = asyncio.run(
                create_admin(
                    settings, email=args.email, password=password, display_name=args.display_name
                )
            )
        except DomainError as exc:
            print(f"create-admin: {exc.message}", file=sys.stderr)
            return 1
        print(f"users/{user.id}")
        return 0
    asyncio.run(_serve(settings, mesh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
