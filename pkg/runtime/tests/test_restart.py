"""Pieces of ``agora restart`` that need no running mesh."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkg.runtime import MeshError, edge_host_health, free_port, restart_service

CLUSTERS = """\
user::observability_name::user
user::default_priority::max_retries::3
user::127.0.0.1:42002::cx_active::2
user::127.0.0.1:42002::health_flags::healthy
user::127.0.0.1:42012::cx_active::0
user::127.0.0.1:42012::health_flags::/failed_active_hc
jwks::127.0.0.1:42001::health_flags::healthy
"""


@pytest.fixture
def admin_port() -> Iterator[int]:
    class Admin(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = CLUSTERS.encode() if self.path == "/clusters" else b""
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Admin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_edge_host_health_reads_the_flags_of_that_host(admin_port: int) -> None:
    assert edge_host_health(admin_port, 42002) == ["healthy"]
    assert edge_host_health(admin_port, 42012) == ["/failed_active_hc"]
    assert edge_host_health(admin_port, 42022) == []


def test_edge_host_health_of_an_admin_that_does_not_answer_is_empty() -> None:
    assert edge_host_health(free_port(), 42002, timeout=1.0) == []


def test_restart_without_a_mesh_says_so(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="no mesh is running"):
        restart_service(tmp_path, "user")
