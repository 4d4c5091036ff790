"""Background loops run with the server: started by ``start``, restarted when they fail,
cancelled by ``stop`` before the cleanups."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agora.user.v1 import user_pb2_grpc
from pkg.mtls import server_credentials
from pkg.server import GrpcServer, Registration
from pkg.testing import TokenMint


class _Users(user_pb2_grpc.UserServiceServicer):
    pass


async def test_loops_start_restart_after_a_failure_and_end_before_the_cleanups(
    cert_dir: Path, token_mint: TokenMint
) -> None:
    said: list[str] = []
    runs = 0
    second_run = asyncio.Event()

    async def flaky_loop() -> None:
        nonlocal runs
        runs += 1
        said.append(f"run {runs}")
        if runs == 1:
            raise RuntimeError("first run fails")
        second_run.set()
        try:
            await asyncio.Event().wait()
        finally:
            said.append("cancelled")

    async def cleanup() -> None:
        said.append("cleanup")

    server = GrpcServer(
        identity="user",
        listen="127.0.0.1:0",
        verifier=token_mint.verifier,
        credentials=server_credentials(cert_dir, "user"),
        registrations=[
            Registration(
                "agora.user.v1.UserService",
                _Users(),
                user_pb2_grpc.add_UserServiceServicer_to_server,
            )
        ],
        background=[flaky_loop],
        cleanups=[cleanup],
        grace=0.1,
    )
    await server.start()
    await asyncio.wait_for(second_run.wait(), 10)
    await server.stop()

    assert said == ["run 1", "run 2", "cancelled", "cleanup"]
