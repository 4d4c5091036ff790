"""Fixtures of the fault-injection suite: a mesh of its own, with two workers per service.

These tests restart, stop, freeze and kill parts of the mesh under a steady load through
the edge, so they never share the e2e suite's mesh. ``fault_mesh`` starts one with
``agora up --detach --workers 2`` on free ports and takes it down at the end of the module,
asserting that no process of it survives.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from pkg.config import MeshSettings
from tests.e2e._api import PASSWORD, random_email
from tests.e2e._mesh import (
    REPO,
    Mesh,
    MeshStartError,
    ssl_context,
    start_mesh,
    stop_mesh,
    stop_mesh_completely,
    tool_env,
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


@pytest.fixture(scope="module")
async def admin_token(fault_mesh: Mesh, edge: httpx.AsyncClient) -> str:
    """An access token of an admin of the fault mesh (``create-admin``, then a login)."""
    email, password = random_email(), "fault admin password 1"
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "services.user",
            "create-admin",
            "--email",
            email,
            "--password",
            password,
            "--display-name",
            "Fault Admin",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
        env={**tool_env(), **fault_mesh.service_env("user")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    login = await edge.post("/v1/auth:login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return str(login.json()["accessToken"])


@pytest.fixture(scope="module")
async def product(edge: httpx.AsyncClient, admin_token: str) -> str:
    """The name of an ACTIVE product with plenty of stock, created by an admin."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    body = {
        "title": "Fault kettle",
        "categories": ["kitchen"],
        "stockQuantity": "100000",
        "price": {"currencyCode": MeshSettings().currency, "units": "3"},
    }
    created = await edge.post("/v1/products", json=body, headers=headers)
    assert created.status_code == 200, created.text
    name = str(created.json()["name"])
    activated = await edge.post(f"/v1/{name}:activate", json={}, headers=headers)
    assert activated.status_code == 200, activated.text
    return name
