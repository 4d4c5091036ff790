"""Fixtures of the fault-injection suite: a mesh of its own, with two workers per service.

These tests restart, stop, freeze and kill parts of the mesh under a steady load through
the edge, so they never share the e2e suite's mesh. ``fault_mesh`` starts one with
``agora up --detach --workers 2`` on free ports and takes it down at the end of the module,
asserting that no process of it survives.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from tests.e2e._api import PASSWORD, random_email
from tests.e2e._mesh import (
    Mesh,
    MeshStartError,
    ssl_context,
    start_mesh,
    stop_mesh,
    stop_mesh_completely,
)


@pytest.fixture(scope="module")
def fault_mesh() -> Iterator[Mesh]:
    """A mesh with two worker processes per service, for this module alone."""
    data_dir = Path(tempfile.mkdtemp(prefix="agora-fault-"))
    try:
        mesh = start_mesh(data_dir, workers=2)
    except MeshStartError as exc:
        stop_mesh(data_dir, timeout=60)
        pytest.fail(
            f"the fault mesh did not come up (state kept in {data_dir}):\n{exc}", pytrace=False
        )
    try:
        yield mesh
    finally:
        stop_mesh_completely(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def edge(fault_mesh: Mesh) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP/2 client of the fault mesh's edge."""
    async with httpx.AsyncClient(
        base_url=fault_mesh.edge_url, http2=True, timeout=20, verify=ssl_context(fault_mesh.root_ca)
    ) as client:
        yield client


@pytest.fixture(scope="module")
async def edge_grpc(fault_mesh: Mesh) -> AsyncIterator[grpc.aio.Channel]:
    """A ``grpc.aio`` channel to the fault mesh's edge over TLS."""
    credentials = grpc.ssl_channel_credentials(root_certificates=fault_mesh.root_ca.read_bytes())
    async with grpc.aio.secure_channel(fault_mesh.edge_target, credentials) as channel:
        yield channel


@pytest.fixture
async def account(edge: httpx.AsyncClient) -> dict[str, Any]:
    """A registered customer of the fault mesh: ``email``, ``user`` and ``tokens``."""
    email = random_email()
    response = await edge.post(
        "/v1/auth:register", json={"email": email, "password": PASSWORD, "displayName": "Fault"}
    )
    assert response.status_code == 200, response.text
    return {"email": email, **response.json()}
