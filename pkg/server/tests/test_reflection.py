"""Server reflection: the edge's clients see only public services, the mesh sees all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from agora.user.v1 import user_pb2_grpc
from pkg.mtls import channel_credentials, server_credentials
from pkg.server import GrpcServer, Registration
from pkg.server.tests.test_interceptors import _Users
from pkg.testing import TokenMint, serving

Request = reflection_pb2.ServerReflectionRequest


@pytest.fixture
async def target(cert_dir: Path, token_mint: TokenMint) -> AsyncIterator[str]:
    server = GrpcServer(
        identity="user", listen="127.0.0.1:0", verifier=token_mint.verifier,
        credentials=server_credentials(cert_dir, "user"),
        registrations=[Registration("agora.user.v1.UserService", _Users(),
                                    user_pb2_grpc.add_UserServiceServicer_to_server)])
    async with serving(server) as address:
        yield address


async def _ask(cert_dir: Path, identity: str, target: str,
               requests: list[reflection_pb2.ServerReflectionRequest]
               ) -> list[reflection_pb2.ServerReflectionResponse]:
    async with grpc.aio.secure_channel(
            target, channel_credentials(cert_dir, identity),
            options=[("grpc.ssl_target_name_override", "user")]) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        return [r async for r in stub.ServerReflectionInfo(iter(requests))]


def _services(response: reflection_pb2.ServerReflectionResponse) -> set[str]:
    found: set[str] = set()
    for raw in response.file_descriptor_response.file_descriptor_proto:
        proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
        found.update(f"{proto.package}.{s.name}" for s in proto.service)
    return found


QUESTIONS = [Request(list_services=""),
             Request(file_containing_symbol="agora.user.v1.UserService"),
             Request(file_containing_symbol="agora.user.v1.UserInternalService")]


async def test_the_edge_sees_only_public_services(cert_dir: Path, target: str) -> None:
    listed, public_file, internal = await _ask(cert_dir, "edge", target, QUESTIONS)
    names = {s.name for s in listed.list_services_response.service}
    assert "agora.user.v1.UserService" in names and "agora.auth.v1.AuthService" in names
    assert "agora.user.v1.UserInternalService" not in names
    assert "agora.user.v1.UserInternalService" not in _services(public_file)
    assert "agora.user.v1.UserService" in _services(public_file)
    assert internal.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]


async def test_the_mesh_sees_everything(cert_dir: Path, target: str) -> None:
    listed, public_file, internal = await _ask(cert_dir, "cli", target, QUESTIONS)
    names = {s.name for s in listed.list_services_response.service}
    assert "agora.user.v1.UserInternalService" in names
    assert {"agora.user.v1.UserService",
            "agora.user.v1.UserInternalService"} <= _services(public_file)
    assert "agora.user.v1.UserInternalService" in _services(internal)
