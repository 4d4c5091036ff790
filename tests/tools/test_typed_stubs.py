"""The generated gRPC stubs are typed (mypy-protobuf), so mypy --strict checks their use."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]

_CLIENT = """
import grpc
from agora.user.v1 import user_pb2, user_pb2_grpc

async def get(channel: grpc.aio.Channel) -> None:
    stub = user_pb2_grpc.UserServiceStub(channel)
    await stub.GetUser(user_pb2.GetUserRequest(name="users/me"))
    await stub.GetUsr(user_pb2.GetUserRequest(name="users/me"))
    user_pb2.User(roles=[user_pb2.ROLE_ADMIN], display_name=3)
"""


def test_mypy_checks_stub_construction_method_names_and_messages(tmp_path: Path) -> None:
    client = tmp_path / "client.py"
    client.write_text(_CLIENT)
    out, err, _ = api.run(
        ["--strict", "--no-incremental", "--config-file", str(ROOT / "pyproject.toml"), str(client)]
    )
    errors = {
        int(line.split(":")[1]): line
        for line in out.splitlines()
        if line.startswith(f"{client}:") and ": error:" in line
    }
    assert sorted(errors) == [8, 9], out + err
    assert '"UserServiceStub" has no attribute "GetUsr"' in errors[8]
    assert '"display_name" to "User" has incompatible type "int"' in errors[9]
