"""Choosing ports for a mesh: a ``--port-base`` whose every worker port is free."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pkg.runtime import SERVICES, MeshError, _ports, free_port, free_port_base, port_is_free


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def worker_ports(base: int, workers: int) -> list[int]:
    return [base + s.port_offset + 10 * i for s in SERVICES for i in range(workers)]


def test_a_base_with_a_busy_worker_port_is_passed_over(
    busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_offset = next(s.port_offset for s in SERVICES if s.name == "user")
    blocked_base = busy_port - user_offset - 10
    candidates = iter([blocked_base + 1, free_port(), free_port(), free_port()])
    monkeypatch.setattr(_ports, "free_port", lambda host="127.0.0.1": next(candidates))
    base = free_port_base(2)
    assert base != blocked_base
    assert all(port_is_free("127.0.0.1", port) for port in worker_ports(base, 2))


def test_no_free_base_is_an_error(busy_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    user_offset = next(s.port_offset for s in SERVICES if s.name == "user")
    monkeypatch.setattr(_ports, "free_port", lambda host="127.0.0.1": busy_port - user_offset + 1)
    with pytest.raises(MeshError, match="no free port base"):
        free_port_base(1, attempts=3)
