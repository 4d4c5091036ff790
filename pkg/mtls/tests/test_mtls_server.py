"""server_credentials: a grpc.aio server picks up renewed certificate files for new
handshakes, never switches to a torn pair, and looks at the files at most every interval."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest

from pkg.mtls import server_credentials
from pkg.mtls._files import IdentityFiles
from pkg.mtls._server import CertificateFetcher

from .conftest import SERVING, Pki, Server, check, eventually, fixed_channel, handshake_serial

StartServer = Callable[[grpc.ServerCredentials], Awaitable[Server]]


async def test_new_handshakes_get_the_renewed_certificate_while_serving(
    pki: Pki, start_server: StartServer
) -> None:
    server = await start_server(server_credentials(pki.certs, "user", check_interval=0))
    old = pki.serial("user")
    established = fixed_channel(pki.certs, server.target)
    try:
        assert await check(established) == SERVING
        assert await handshake_serial(server.port, pki.certs) == old

        new = pki.renew("user")
        seen = await eventually(lambda: handshake_serial(server.port, pki.certs), new)

        assert new != old and seen == new
        assert await check(established) == SERVING  # the open connection is untouched
        async with fixed_channel(pki.certs, server.target) as fresh:
            assert await check(fresh) == SERVING  # a new gRPC client verifies the new leaf
    finally:
        await established.close()


async def test_a_torn_renewal_keeps_the_old_pair_until_the_certificate_follows(
    pki: Pki, start_server: StartServer
) -> None:
    server = await start_server(server_credentials(pki.certs, "user", check_interval=0))
    old = pki.serial("user")

    chain, _ = pki.renew_key_only("user")  # new key on disk, old certificate

    assert await handshake_serial(server.port, pki.certs) == old
    async with fixed_channel(pki.certs, server.target) as channel:
        assert await check(channel) == SERVING
    new = pki.finish("user", chain)
    assert await eventually(lambda: handshake_serial(server.port, pki.certs), new) == new


def test_the_fetcher_looks_at_the_files_at_most_every_interval(pki: Pki) -> None:
    now = [0.0]
    files = IdentityFiles(pki.certs, "user")
    fetcher = CertificateFetcher(files, *files.initial(), check_interval=5.0, clock=lambda: now[0])

    pki.renew("user")
    before_interval = fetcher()
    now[0] = 5.0
    after_interval = fetcher()
    now[0] = 10.0
    unchanged = fetcher()

    assert before_interval is None
    assert isinstance(after_interval, grpc.ServerCertificateConfiguration)
    assert unchanged is None


def test_rewritten_but_identical_files_are_no_change(pki: Pki) -> None:
    now = [0.0]
    files = IdentityFiles(pki.certs, "user")
    fetcher = CertificateFetcher(files, *files.initial(), check_interval=1.0, clock=lambda: now[0])
    crt = pki.certs / "user.crt"
    crt.write_bytes(crt.read_bytes())  # new mtime, same bytes

    now[0] = 1.0
    assert fetcher() is None


def test_missing_files_and_mismatched_keys_are_refused_at_start(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(OSError):
        server_credentials(tmp_path / "nowhere", "user")
    (pki.certs / "user.key").write_bytes((pki.certs / "auth.key").read_bytes())
    with pytest.raises(ValueError, match="does not match"):
        IdentityFiles(pki.certs, "user").initial(attempts=2, pause=0)
