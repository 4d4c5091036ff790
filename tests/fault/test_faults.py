"""Faults injected under a steady load through the edge (issue 5's resilience goals).

- A rolling restart (`agora restart user`, `agora restart auth`) fails no request.
- PostgreSQL stopped or frozen under load: every failed request is 503 UNAVAILABLE (JSON
  code 14, with Retry-After) or gRPC UNAVAILABLE, never a 504, a 500 or a hang, and every
  request succeeds again within 3 s of PostgreSQL accepting connections, without a restart.
- Redis killed with -9: no token family is lost (append-only file, fsync every second).

Every load is bounded in rate, count and time, and targets only the loopback edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import Any

import grpc
import httpx
import psutil
import pytest

from agora.user.v1 import user_pb2, user_pb2_grpc
from pkg.runtime import MeshLayout, Supervisor
from tests.e2e._api import PASSWORD, bearer
from tests.e2e._mesh import Mesh, agora, log_tails

from ._load import SteadyLoad, summary
from ._outage import RECOVERY, grpc_outcome, http_outcome, run_outage

pytestmark = [pytest.mark.e2e, pytest.mark.fault, pytest.mark.timeout(600)]


def _supervisor(mesh: Mesh) -> Supervisor:
    return Supervisor(MeshLayout.at(mesh.data_dir))


def _pids(mesh: Mesh, prefix: str) -> dict[str, int]:
    return {
        info["name"]: int(info["pid"])
        for info in _supervisor(mesh).all_info()
        if info["name"].startswith(prefix) and info["statename"] == "RUNNING"
    }


def _http_ok(response: httpx.Response) -> tuple[bool, str]:
    return http_outcome(response)


class _Traffic:
    """The requests of a marketplace client: profile reads over HTTP/JSON and gRPC, logins,
    JWKS reads and refresh-token rotations (one sequential chain per token family)."""

    def __init__(
        self, edge: httpx.AsyncClient, channel: grpc.aio.Channel, account: dict[str, Any]
    ) -> None:
        self.edge = edge
        self.users = user_pb2_grpc.UserServiceStub(channel)
        self.account = account
        self.access = account["tokens"]["accessToken"]

    async def get_user_http(self) -> tuple[bool, str]:
        return _http_ok(await self.edge.get("/v1/users/me", headers=bearer(self.access)))

    async def get_user_grpc(self) -> tuple[bool, str]:
        try:
            await self.users.GetUser(
                user_pb2.GetUserRequest(name="users/me"),
                timeout=20,
                metadata=(("authorization", f"Bearer {self.access}"),),
            )
        except grpc.aio.AioRpcError as exc:
            return grpc_outcome(exc)
        return True, ""

    async def login(self) -> tuple[bool, str]:
        return _http_ok(
            await self.edge.post(
                "/v1/auth:login", json={"email": self.account["email"], "password": PASSWORD}
            )
        )

    async def jwks(self) -> tuple[bool, str]:
        return _http_ok(await self.edge.get("/.well-known/jwks.json"))

    async def refresh_chain(self) -> Any:
        pair = (
            await self.edge.post(
                "/v1/auth:login", json={"email": self.account["email"], "password": PASSWORD}
            )
        ).json()
        token = pair["refreshToken"]

        async def rotate() -> tuple[bool, str]:
            nonlocal token
            response = await self.edge.post("/v1/auth:refresh", json={"refreshToken": token})
            if response.status_code == 200:
                token = response.json()["refreshToken"]
            return _http_ok(response)

        return rotate


async def _restart_under_load(
    mesh: Mesh, load: SteadyLoad, service: str, before: dict[str, int]
) -> None:
    """Let ``load`` run 2 s, ``agora restart service``, 2 s more; then every worker has a
    new pid and not one request failed."""
    await asyncio.sleep(2.0)
    restarted = await asyncio.to_thread(
        agora, "restart", service, "--data-dir", str(mesh.data_dir), timeout=240
    )
    await asyncio.sleep(2.0)
    outcomes = await load.stop()
    assert restarted.returncode == 0, f"{restarted.stdout}\n{restarted.stderr}"
    after = _pids(mesh, f"{service}-")
    assert set(after) == set(before) and not set(after.values()) & set(before.values()), (
        f"every {service} worker should have a new pid: {before} -> {after}"
    )
    failed = [o for o in outcomes if not o.ok]
    assert len(outcomes) > 100 and not failed, (
        summary(outcomes) + "\n" + log_tails(mesh.data_dir, 15)
    )


async def test_rolling_restart_of_user_fails_no_request(
    fault_mesh: Mesh, edge: httpx.AsyncClient, edge_grpc: grpc.aio.Channel, account: dict[str, Any]
) -> None:
    traffic = _Traffic(edge, edge_grpc, account)
    before = _pids(fault_mesh, "user-")
    assert len(before) == 2, f"expected two user workers, saw {before}"
    load = SteadyLoad()
    load.add("GetUser HTTP/JSON", traffic.get_user_http, rate=20)
    load.add("GetUser gRPC", traffic.get_user_grpc, rate=10)
    load.add("Login (auth -> user)", traffic.login, rate=2, concurrency=2)
    await _restart_under_load(fault_mesh, load, "user", before)


async def test_rolling_restart_of_auth_fails_no_request(
    fault_mesh: Mesh, edge: httpx.AsyncClient, edge_grpc: grpc.aio.Channel, account: dict[str, Any]
) -> None:
    traffic = _Traffic(edge, edge_grpc, account)
    before = _pids(fault_mesh, "auth-")
    assert len(before) == 2, f"expected two auth workers, saw {before}"
    load = SteadyLoad()
    for chain in range(3):
        load.add(f"Refresh chain {chain}", await traffic.refresh_chain(), rate=3, concurrency=1)
    load.add("JWKS", traffic.jwks, rate=5)
    load.add("Login", traffic.login, rate=2, concurrency=2)
    load.add("GetUser HTTP/JSON", traffic.get_user_http, rate=10)
    await _restart_under_load(fault_mesh, load, "auth", before)


async def test_rolling_restart_of_catalog_fails_no_request(
    fault_mesh: Mesh, edge: httpx.AsyncClient, account: dict[str, Any], product: str
) -> None:
    """Listing, reading and adding to a basket (basket -> catalog) go on while every catalog
    worker is replaced."""
    headers = bearer(account["tokens"]["accessToken"])
    before = _pids(fault_mesh, "catalog-")
    assert len(before) == 2, f"expected two catalog workers, saw {before}"

    async def list_products() -> tuple[bool, str]:
        return _http_ok(await edge.get("/v1/products", params={"filter": "kitchen"}))

    async def get_product() -> tuple[bool, str]:
        return _http_ok(await edge.get(f"/v1/{product}"))

    async def add_and_remove() -> tuple[bool, str]:
        added = await edge.post(
            "/v1/users/me/basket:addItem",
            json={"product": product, "quantity": 1},
            headers=headers,
        )
        if added.status_code != 200:
            return _http_ok(added)
        return _http_ok(
            await edge.post(
                "/v1/users/me/basket:removeItem", json={"product": product}, headers=headers
            )
        )

    load = SteadyLoad()
    load.add("ListProducts HTTP/JSON", list_products, rate=15)
    load.add("GetProduct HTTP/JSON", get_product, rate=10)
    load.add("AddBasketItem (basket -> catalog)", add_and_remove, rate=3, concurrency=1)
    await _restart_under_load(fault_mesh, load, "catalog", before)


async def test_rolling_restart_of_basket_fails_no_request(
    fault_mesh: Mesh, edge: httpx.AsyncClient, account: dict[str, Any], product: str
) -> None:
    """The basket keeps answering while every basket worker is replaced (its state is in
    Redis, so no line is lost either)."""
    headers = bearer(account["tokens"]["accessToken"])
    added = await edge.post(
        "/v1/users/me/basket:addItem", json={"product": product, "quantity": 2}, headers=headers
    )
    assert added.status_code == 200, added.text
    before = _pids(fault_mesh, "basket-")
    assert len(before) == 2, f"expected two basket workers, saw {before}"

    async def get_basket() -> tuple[bool, str]:
        response = await edge.get("/v1/users/me/basket", headers=headers)
        ok, seen = _http_ok(response)
        if ok and [i["quantity"] for i in response.json().get("items", [])] != [2]:
            return False, f"the basket lost its line: {response.text[:200]}"
        return ok, seen

    load = SteadyLoad()
    load.add("GetBasket HTTP/JSON", get_basket, rate=20)
    await _restart_under_load(fault_mesh, load, "basket", before)


async def _wait_until(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"{what} not within {within:g} s"
        await asyncio.sleep(0.25)


async def test_redis_killed_with_sigkill_loses_no_token_family(
    fault_mesh: Mesh, edge: httpx.AsyncClient, account: dict[str, Any]
) -> None:
    response = await edge.post(
        "/v1/auth:login", json={"email": account["email"], "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    refresh = response.json()["refreshToken"]
    supervisor = _supervisor(fault_mesh)
    old_pid = int(supervisor.info("redis")["pid"])
    await asyncio.sleep(1.5)  # appendfsync everysec: what was written a second ago is on disk
    os.kill(old_pid, signal.SIGKILL)

    async def redis_back() -> bool:
        info = supervisor.info("redis")
        if info["statename"] == "RUNNING" and int(info["pid"]) != old_pid:
            return True
        if info["statename"] in {"EXITED", "FATAL", "STOPPED"}:
            supervisor.start("redis")  # supervisord restarts it on its own; this is a backstop
        return False

    await _wait_until(redis_back, 30, "Redis restarted by supervisord")
    answers = []
    for _ in range(40):
        response = await edge.post("/v1/auth:refresh", json={"refreshToken": refresh})
        answers.append(f"{response.status_code} {response.text[:200]}")
        if response.status_code != 503:
            break
        await asyncio.sleep(0.5)
    assert response.status_code == 200, (
        "the token family did not survive Redis being killed:\n" + "\n".join(answers)
    )


async def _edge_user_stats(mesh: Mesh) -> str:
    """Envoy's counters of the user cluster that tell where an outage's time went."""
    pattern = (
        r"^cluster\.user\.(upstream_rq_retry|upstream_rq_retry_success|"
        r"outlier_detection\.ejections_enforced_total|health_check\.failure|"
        r"upstream_rq_timeout|lb_healthy_panic)$"
    )
    transport = httpx.AsyncHTTPTransport(uds=str(mesh.admin_socket))
    async with httpx.AsyncClient(transport=transport) as admin:
        response = await admin.get("http://admin/stats", params={"filter": pattern})
    return "edge: " + ", ".join(
        line.removeprefix("cluster.user.") for line in response.text.splitlines()
    )


async def _outage_under_load(
    mesh: Mesh,
    edge: httpx.AsyncClient,
    channel: grpc.aio.Channel,
    account: dict[str, Any],
    *,
    stop: Any,
    resume: Any,
    seconds: float,
) -> None:
    """Profile reads (80/s HTTP/JSON, 30/s gRPC) across a PostgreSQL fault of ``seconds``:
    every failure is UNAVAILABLE (503 + JSON code 14 + Retry-After, or gRPC UNAVAILABLE),
    none before the fault, and everything succeeds again within ``RECOVERY`` seconds of
    PostgreSQL accepting connections, with no user worker restarted."""
    traffic = _Traffic(edge, channel, account)
    users_before = _pids(mesh, "user-")
    assert (await traffic.get_user_http())[0], "GetUser failed before the fault"
    load = SteadyLoad()
    load.add("GetUser HTTP/JSON", traffic.get_user_http, rate=80, concurrency=24)
    load.add("GetUser gRPC", traffic.get_user_grpc, rate=30, concurrency=12)
    figures = await run_outage(load, mesh.database_url, stop=stop, resume=resume, seconds=seconds)
    print("\n" + figures.report() + "\n" + await _edge_user_stats(mesh))
    message = figures.report() + "\n" + log_tails(mesh.data_dir, 10)
    assert len(figures.outcomes) > 500 and figures.failed, message
    assert not figures.wrong, message
    assert not figures.failed_early, message
    first = figures.first_success_after_back
    assert first is not None and first <= RECOVERY, message
    assert not figures.failed_late, message
    assert _pids(mesh, "user-") == users_before, "a user worker was restarted"


async def test_postgres_stopped_gives_503_only_then_recovers_within_3_s(
    fault_mesh: Mesh, edge: httpx.AsyncClient, edge_grpc: grpc.aio.Channel, account: dict[str, Any]
) -> None:
    supervisor = _supervisor(fault_mesh)

    async def stop() -> None:
        await asyncio.to_thread(supervisor.stop, "postgres")

    async def resume() -> None:
        await asyncio.to_thread(supervisor.start, "postgres")

    await _outage_under_load(
        fault_mesh, edge, edge_grpc, account, stop=stop, resume=resume, seconds=10.0
    )


async def test_postgres_frozen_gives_503_only_then_recovers_within_3_s(
    fault_mesh: Mesh, edge: httpx.AsyncClient, edge_grpc: grpc.aio.Channel, account: dict[str, Any]
) -> None:
    # Every backend is a session leader of its own (PostgreSQL's InitPostmasterChild calls
    # setsid), so the postmaster's process group is not enough: freeze the whole tree.
    postmaster = psutil.Process(int(_supervisor(fault_mesh).info("postgres")["pid"]))
    frozen: list[psutil.Process] = []

    async def stop() -> None:
        postmaster.send_signal(signal.SIGSTOP)
        frozen.extend([postmaster, *postmaster.children(recursive=True)])
        for process in frozen[1:]:
            process.send_signal(signal.SIGSTOP)

    async def resume() -> None:
        for process in reversed(frozen):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGCONT)

    await _outage_under_load(
        fault_mesh, edge, edge_grpc, account, stop=stop, resume=resume, seconds=8.0
    )
