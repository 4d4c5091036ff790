"""``python -m services.auth [serve | rotate-key | retire-keys --older-than-days N]``.

``serve`` (the default) runs the gRPC server until SIGTERM/SIGINT.  ``rotate-key`` adds a
signing key to ``AGORA_AUTH_KEYS_DIR`` and prints its kid; running servers publish it in
the JWKS within ``AGORA_AUTH_KEY_RESCAN_SECONDS`` and sign with it
``AGORA_AUTH_KEY_ACTIVATION_DELAY_SECONDS`` after its creation (the time is printed on
stderr).  ``retire-keys`` deletes keys superseded (by a newer key that signs) more than N
days ago, never the signer, which drops them from the JWKS.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from pkg.config import MeshSettings
from pkg.obs import configure_logging
from services.auth.config import AuthSettings


async def _serve(settings: AuthSettings, mesh: MeshSettings) -> None:
    from services.auth.app import build

    await build(settings, mesh).serve_until_signalled()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (``sys.argv[1:]`` when None); return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m services.auth")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve gRPC (default)")
    commands.add_parser(
        "rotate-key", help="publish a new signing key; it signs after the activation delay"
    )
    retire = commands.add_parser("retire-keys", help="delete long-superseded signing keys")
    retire.add_argument("--older-than-days", type=float, required=True)
    args = parser.parse_args(argv)

    mesh = MeshSettings()
    settings = AuthSettings()
    configure_logging("auth", mesh.log_level, mesh.log_file)
    if args.command == "rotate-key":
        from services.auth.adapters import rotate_key

        key = rotate_key(settings.keys_dir)
        signs_from = datetime.fromtimestamp(
            key.created_at + settings.key_activation_delay_seconds, UTC
        )
        print(key.kid)
        print(
            f"published now; signs from {signs_from.isoformat(timespec='seconds')}", file=sys.stderr
        )
        return 0
    if args.command == "retire-keys":
        from services.auth.adapters import retire_keys

        if args.older_than_days * 86400 < settings.access_token_ttl_seconds:
            parser.error("--older-than-days must cover at least one access-token lifetime")
        for kid in retire_keys(
            settings.keys_dir,
            now=time.time(),
            older_than_seconds=args.older_than_days * 86400,
            activation_delay_seconds=settings.key_activation_delay_seconds,
        ):
            print(kid)
        return 0
    asyncio.run(_serve(settings, mesh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
