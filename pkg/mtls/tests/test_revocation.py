"""``agora certs --rotate-intermediate`` revokes: after it, a grpc.aio server running
``server_credentials`` refuses a kept copy of an old client leaf and a ``secure_channel``
refuses an old server leaf, while the reissued leaves pass; ``--force`` alone does not."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pkg.cli.main import main
from pkg.mtls import secure_channel, server_credentials

from .conftest import SERVING, Server, check, eventually, fixed_channel, handshake_serial


def _certs(data: Path, *flags: str) -> Path:
    assert main(["certs", "--data-dir", str(data), *flags]) == 0
    return data / "certs"


def _keep_copy(certs: Path, folder: Path) -> Path:
    """A copy of the certificate directory as it is now (what a thief would hold)."""
    shutil.copytree(certs, folder)
    return folder


async def _status_with(certs: Path, target: str, identity: str = "cli") -> int | None:
    """SERVING when ``identity``'s leaf in ``certs`` passes the server's handshake, None when
    the call fails (refused client certificate)."""
    async with fixed_channel(certs, target, identity=identity) as channel:
        try:
            return await check(channel)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error
            return None


StartServer = Callable[[grpc.ServerCredentials], Awaitable[Server]]


async def test_rotation_makes_the_server_refuse_an_old_client_leaf(
    tmp_path: Path, start_server: StartServer, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = _certs(tmp_path / "data")
    stolen = _keep_copy(certs, tmp_path / "stolen")
    server = await start_server(server_credentials(certs, "user", check_interval=0.05))
    assert await _status_with(stolen, server.target) == SERVING  # the copy works today

    _certs(tmp_path / "data", "--rotate-intermediate")
    new_user = x509_serial(certs / "user.crt")
    presented = await eventually(lambda: handshake_serial(server.port, certs), new_user)

    assert "new intermediate CA" in capsys.readouterr().out
    assert presented == new_user, "the server reloaded the reissued leaf without restart"
    assert await _status_with(stolen, server.target) is None, "old cli leaf still accepted"
    assert await _status_with(certs, server.target) == SERVING, "the new cli leaf passes"


async def test_rotation_makes_a_channel_refuse_an_old_server_leaf(
    tmp_path: Path, start_server: StartServer
) -> None:
    certs = _certs(tmp_path / "data")
    stolen = _keep_copy(certs, tmp_path / "stolen")
    _certs(tmp_path / "data", "--rotate-intermediate")
    impostor = await start_server(
        grpc.ssl_server_credentials(
            [((stolen / "user.key").read_bytes(), (stolen / "user.crt").read_bytes())],
            root_certificates=(stolen / "root_ca.crt").read_bytes(),
            require_client_auth=True,
        )
    )
    genuine = await start_server(server_credentials(certs, "user"))

    async with secure_channel(certs, "cli", impostor.target, "user") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:  # fail at once, not at deadline
            await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10, wait_for_ready=False
            )
    async with secure_channel(certs, "cli", genuine.target, "user") as channel:
        assert await check(channel) == SERVING

    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_force_alone_is_a_renewal_and_the_old_leaf_keeps_working(
    tmp_path: Path, start_server: StartServer
) -> None:
    certs = _certs(tmp_path / "data")
    kept = _keep_copy(certs, tmp_path / "kept")
    _certs(tmp_path / "data", "--force")
    server = await start_server(server_credentials(certs, "user"))

    assert x509_serial(kept / "cli.crt") != x509_serial(certs / "cli.crt")
    assert await _status_with(kept, server.target) == SERVING, (
        "--force issues new keys but revokes nothing (the runbook says so)"
    )


def x509_serial(path: Path) -> int:
    from .conftest import serial_of_pem

    return serial_of_pem(path.read_bytes())


def test_a_leaf_the_trust_file_does_not_issue_is_not_switched_to(tmp_path: Path) -> None:
    """Mid-rotation the trust file and a leaf come from different intermediates: a server
    or channel keeps what it has instead of presenting a leaf its peers would refuse."""
    from pkg.mtls._files import IdentityFiles

    certs = _certs(tmp_path / "data")
    old_trust = (certs / "intermediate_ca.crt").read_bytes()
    files = IdentityFiles(certs, "user")
    assert files.load() is not None
    _certs(tmp_path / "data", "--rotate-intermediate")
    (certs / "intermediate_ca.crt").write_bytes(old_trust)  # new leaf, old trust file

    assert files.load() is None
    with pytest.raises(ValueError, match=r"not issued by intermediate_ca\.crt"):
        files.initial(attempts=2, pause=0)
