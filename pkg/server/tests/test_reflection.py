"""Server reflection (v1 and v1alpha): the edge's clients see only public services and the
types they use, the mesh sees all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from agora.user.v1 import user_pb2_grpc
from pkg.mtls import channel_credentials, server_credentials
from pkg.server import GrpcServer, Registration
from pkg.server.tests.test_interceptors import _Users
from pkg.testing import TokenMint, serving

Request = reflection_pb2.ServerReflectionRequest
Response = reflection_pb2.ServerReflectionResponse
V1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
V1ALPHA = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
INTERNAL_MESSAGES = ("agora.user.v1.VerifyCredentialsRequest", "agora.user.v1.CreateUserRequest")
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]


@pytest.fixture
async def target(cert_dir: Path, token_mint: TokenMint) -> AsyncIterator[str]:
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
    )
    async with serving(server) as address:
        yield address


async def _ask(
    cert_dir: Path,
    identity: str,
    target: str,
    requests: list[reflection_pb2.ServerReflectionRequest],
    path: str = V1ALPHA,
) -> list[reflection_pb2.ServerReflectionResponse]:
    """Ask ``requests`` on one stream; v1 shares v1alpha's messages field for field."""
    async with grpc.aio.secure_channel(
        target,
        channel_credentials(cert_dir, identity),
        options=[("grpc.ssl_target_name_override", "user")],
    ) as channel:
        if path == V1ALPHA:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            return [r async for r in stub.ServerReflectionInfo(iter(requests))]
        call = channel.stream_stream(
            path,
            request_serializer=Request.SerializeToString,
            response_deserializer=Response.FromString,
        )
        return [r async for r in call(iter(requests))]


def _services(response: reflection_pb2.ServerReflectionResponse) -> set[str]:
    found: set[str] = set()
    for raw in response.file_descriptor_response.file_descriptor_proto:
        proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
        found.update(f"{proto.package}.{s.name}" for s in proto.service)
    return found


QUESTIONS = [
    Request(list_services=""),
    Request(file_containing_symbol="agora.user.v1.UserService"),
    Request(file_containing_symbol="agora.user.v1.UserInternalService"),
]


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
    assert {"agora.user.v1.UserService", "agora.user.v1.UserInternalService"} <= _services(
        public_file
    )
    assert "agora.user.v1.UserInternalService" in _services(internal)


def _files(
    response: reflection_pb2.ServerReflectionResponse,
) -> list[descriptor_pb2.FileDescriptorProto]:
    return [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]


def _messages(files: list[descriptor_pb2.FileDescriptorProto]) -> set[str]:
    found: set[str] = set()

    def walk(scope: str, messages: list[descriptor_pb2.DescriptorProto]) -> None:
        for message in messages:
            name = f"{scope}.{message.name}"
            found.add(name)
            walk(name, list(message.nested_type))

    for file in files:
        walk(file.package, list(file.message_type))
    return found


PROBES = [
    Request(file_containing_symbol="agora.user.v1.VerifyCredentialsRequest"),
    Request(file_containing_symbol="agora.user.v1.CreateUserRequest"),
    Request(file_by_filename="agora/user/v1/user.proto"),
    Request(file_containing_symbol="agora.user.v1.UserService"),
    Request(file_containing_symbol="agora.auth.v1.AuthService"),
    Request(
        file_containing_extension=reflection_pb2.ExtensionRequest(
            containing_type="google.protobuf.MethodOptions", extension_number=50001
        )
    ),
    Request(
        file_containing_extension=reflection_pb2.ExtensionRequest(
            containing_type="agora.user.v1.VerifyCredentialsRequest", extension_number=1
        )
    ),
    Request(all_extension_numbers_of_type="agora.user.v1.CreateUserRequest"),
    Request(list_services=""),
]


@pytest.mark.parametrize("path", [V1ALPHA, V1])
async def test_the_edge_cannot_reach_internal_messages(
    cert_dir: Path, target: str, path: str
) -> None:
    (
        verify,
        create,
        by_name,
        users,
        auth,
        policy,
        internal_extension,
        internal_numbers,
        listed,
    ) = await _ask(cert_dir, "edge", target, PROBES, path)
    for hidden in (verify, create, internal_extension, internal_numbers):
        assert hidden.error_response.error_code == NOT_FOUND, hidden
    served = [f for r in (by_name, users, auth, policy) for f in _files(r)]
    assert served and all(
        r.HasField("file_descriptor_response") for r in (by_name, users, auth, policy)
    )
    messages = _messages(served)
    assert {
        "agora.user.v1.GetUserRequest",
        "agora.auth.v1.LoginRequest",
        "agora.policy.v1.Rule",
    } <= messages
    assert not messages & set(INTERNAL_MESSAGES)
    assert "agora.user.v1.UserInternalService" not in {
        s.name for s in listed.list_services_response.service
    }


async def test_the_edges_files_describe_and_call_a_public_rpc(cert_dir: Path, target: str) -> None:
    (auth,) = await _ask(
        cert_dir, "edge", target, [Request(file_containing_symbol="agora.auth.v1.AuthService")], V1
    )
    pool = descriptor_pool.DescriptorPool()
    files = {f.name: f for f in _files(auth)}
    added: set[str] = set()

    def add(name: str) -> None:
        if name not in added:
            added.add(name)
            for dependency in files[name].dependency:
                add(dependency)
            pool.Add(files[name])

    for name in files:
        add(name)
    login = pool.FindMethodByName("agora.auth.v1.AuthService.Login")
    request = json_format.Parse(
        '{"email": "a@example.com", "password": "secret"}',
        message_factory.GetMessageClass(login.input_type)(),
    )
    assert request.SerializeToString()
    user = pool.FindMessageTypeByName("agora.auth.v1.RegisterResponse").fields_by_name["user"]
    assert user.message_type is not None
    assert user.message_type.full_name == "agora.user.v1.User"


@pytest.mark.parametrize("path", [V1ALPHA, V1])
async def test_the_cli_sees_internal_messages(cert_dir: Path, target: str, path: str) -> None:
    verify, create = await _ask(cert_dir, "cli", target, PROBES[:2], path)
    assert set(INTERNAL_MESSAGES) <= _messages(_files(verify)) & _messages(_files(create))
