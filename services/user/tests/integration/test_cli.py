"""``python -m services.user``: migrate, create-admin, and serve until SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pkg.runtime import free_port
from services.user.tests.conftest import drop_database, fresh_database, random_email

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def env(postgres_url: str, cert_dir: Path) -> Iterator[dict[str, str]]:
    name, url = fresh_database(postgres_url)
    yield {
        **os.environ,
        "AGORA_USER_DATABASE_URL": url,
        "AGORA_CERT_DIR": str(cert_dir),
        "AGORA_ENDPOINTS": json.dumps({"auth": "ipv4:127.0.0.1:9"}),
        "AGORA_USER_ARGON2_MEMORY_COST_KIB": "64",
        "AGORA_USER_ARGON2_TIME_COST": "1",
        "AGORA_LOG_LEVEL": "WARNING",
    }
    drop_database(postgres_url, name)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.user", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_then_create_admin_once(env: dict[str, str]) -> None:
    assert _run(env, "migrate").returncode == 0
    email = random_email()
    args = (
        "create-admin",
        "--email",
        email,
        "--display-name",
        "Root",
        "--password",
        "correct horse battery",
    )
    created = _run(env, *args)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("users/")
    again = _run(env, *args[:-1], "another password!")
    assert again.returncode == 1
    assert "exists already" in again.stderr


def test_serves_health_over_mtls_and_stops_on_sigterm(env: dict[str, str], cert_dir: Path) -> None:
    assert _run(env, "migrate").returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "services.user"],
        cwd=ROOT,
        env={**env, "AGORA_USER_LISTEN": f"127.0.0.1:{port}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert _health(cert_dir, port) == health_pb2.HealthCheckResponse.SERVING
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _health(cert_dir: Path, port: int, timeout: float = 20.0) -> int:
    credentials = grpc.ssl_channel_credentials(
        (cert_dir / "root_ca.crt").read_bytes(),
        (cert_dir / "cli.key").read_bytes(),
        (cert_dir / "cli.crt").read_bytes(),
    )
    deadline = time.monotonic() + timeout
    with grpc.secure_channel(
        f"127.0.0.1:{port}", credentials, options=[("grpc.ssl_target_name_override", "user")]
    ) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                return int(stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status)
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
