"""Pieces of ``agora restart`` that need no running mesh."""

from __future__ import annotations

import http.server
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkg.runtime import MeshError, edge_host_health, restart_service

CLUSTERS = """\
user::observability_name::user
user::default_priority::max_retries::3
user::127.0.0.1:42002::cx_active::2
user::127.0.0.1:42002::health_flags::healthy
user::127.0.0.1:42012::cx_active::0
user::127.0.0.1:42012::health_flags::/failed_active_hc
jwks::127.0.0.1:42001::health_flags::healthy
"""


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def admin_socket(tmp_path: Path) -> Iterator[Path]:
    """A stand-in for Envoy's admin on a unix socket, answering ``GET /clusters``."""

    class Admin(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = CLUSTERS.encode() if self.path == "/clusters" else b""
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    path = tmp_path / "admin.sock"
    server = _UnixHTTPServer(str(path), Admin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        server.shutdown()
        server.server_close()


def test_edge_host_health_reads_the_flags_of_that_host(admin_socket: Path) -> None:
    assert edge_host_health(admin_socket, 42002) == ["healthy"]
    assert edge_host_health(admin_socket, 42012) == ["/failed_active_hc"]
    assert edge_host_health(admin_socket, 42022) == []


def test_edge_host_health_of_an_admin_that_does_not_answer_is_empty(tmp_path: Path) -> None:
    assert edge_host_health(tmp_path / "no-such.sock", 42002, timeout=1.0) == []


def test_restart_without_a_mesh_says_so(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="no mesh is running"):
        restart_service(tmp_path, "user")
