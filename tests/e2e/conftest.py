"""Fixtures of the end-to-end suite: one real mesh (``agora up``) for the whole session.

``mesh`` starts it on free ports in a temporary data directory and stops it with
``agora down`` at the end, asserting no process of that data directory survives; a mesh
that does not come up fails the session with the tails of its logs (never a skip).
Clients: ``http`` (HTTP/1.1) and ``http2`` (HTTP/2) ``httpx`` clients and ``edge_channel``
(``grpc.aio`` over TLS), all trusting only the mesh's ``root_ca.crt``.
"""

from __future__ import annotations

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

from ._api import PASSWORD, login, random_email, register
from ._mesh import (
    REPO,
    Mesh,
    MeshStartError,
    ssl_context,
    start_mesh,
    stop_mesh,
    stop_mesh_completely,
    tool_env,
)


@pytest.fixture(scope="session")
def mesh(request: pytest.FixtureRequest) -> Iterator[Mesh]:
    """The running mesh (``agora up --detach`` on free ports; ``agora down`` at the end)."""
    reuse = request.config.getoption("--mesh-data-dir", default=None)
    if reuse:
        import json

        data_dir = Path(reuse).absolute()
        yield Mesh(data_dir, json.loads((data_dir / "mesh.json").read_text()))
        return
    # Not under tmp_path_factory: every pytest run strips o+x from /tmp/pytest-of-<user>,
    # which would lock out PostgreSQL when it runs as the unprivileged ``agora`` account.
    data_dir = Path(tempfile.mkdtemp(prefix="agora-e2e-"))
    failure = None
    try:
        running = start_mesh(data_dir)
    except MeshStartError as exc:
        _down_quietly(data_dir)
        failure = str(exc)
    if failure is not None:
        pytest.fail(
            f"the mesh did not come up (state kept in {data_dir}):\n{failure}", pytrace=False
        )
    try:
        yield running
    finally:
        stop_mesh_completely(data_dir)
        if not request.config.getoption("--keep-mesh-data", default=False):
            shutil.rmtree(data_dir, ignore_errors=True)


def _down_quietly(data_dir: Path) -> None:
    try:
        stop_mesh(data_dir, timeout=60)
    except (OSError, subprocess.SubprocessError):
        pass


@pytest.fixture(scope="session")
def http(mesh: Mesh) -> Iterator[httpx.Client]:
    """An HTTP/1.1 client of the edge (``https://localhost:<edge>``)."""
    with httpx.Client(
        base_url=mesh.edge_url,
        verify=ssl_context(mesh.root_ca),
        http1=True,
        http2=False,
        timeout=15,
    ) as client:
        yield client


@pytest.fixture(scope="session")
def http2(mesh: Mesh) -> Iterator[httpx.Client]:
    """An HTTP/2-only client of the edge (ALPN ``h2``)."""
    with httpx.Client(
        base_url=mesh.edge_url,
        verify=ssl_context(mesh.root_ca),
        http1=False,
        http2=True,
        timeout=15,
    ) as client:
        yield client


@pytest.fixture(params=["HTTP/1.1", "HTTP/2"])
def protocol(request: pytest.FixtureRequest) -> str:
    """``HTTP/1.1``, then ``HTTP/2`` (as ``httpx.Response.http_version`` names them)."""
    return str(request.param)


@pytest.fixture
def any_http(protocol: str, request: pytest.FixtureRequest) -> httpx.Client:
    """The client speaking ``protocol`` (tests using it run once per protocol)."""
    client: httpx.Client = request.getfixturevalue("http" if protocol == "HTTP/1.1" else "http2")
    return client


@pytest.fixture(scope="session")
async def edge_channel(mesh: Mesh) -> AsyncIterator[grpc.aio.Channel]:
    """A ``grpc.aio`` channel to the edge over TLS (no client certificate)."""
    credentials = grpc.ssl_channel_credentials(root_certificates=mesh.root_ca.read_bytes())
    async with grpc.aio.secure_channel(mesh.edge_target, credentials) as channel:
        yield channel


@pytest.fixture
def customer(http: httpx.Client) -> dict[str, Any]:
    """A freshly registered customer: ``email``, ``password``, ``user``, ``tokens``."""
    email = random_email()
    body = register(http, email)
    return {"email": email, "password": PASSWORD, **body}


@pytest.fixture(scope="session")
def admin(mesh: Mesh, http: httpx.Client) -> dict[str, Any]:
    """An admin made with ``python -m services.user create-admin``, logged in.

    Runs with the user service's environment from ``supervisord.conf``; returns ``email``,
    ``password`` and ``tokens``.
    """
    email, password = random_email(), "admin password for e2e 1"
    env = {**tool_env(), **mesh.service_env("user")}
    result = subprocess.run(
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
            "E2E Admin",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert result.returncode == 0, (
        f"create-admin failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return {"email": email, "password": password, "tokens": login(http, email, password)}
