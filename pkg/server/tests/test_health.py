"""``HealthReporter``: a hung probe counts as down at once; informational probes are only
published."""

from __future__ import annotations

import asyncio

from grpc_health.v1 import health, health_pb2

from pkg.server import HealthReporter


async def test_a_probe_that_ignores_cancellation_does_not_hold_health_up() -> None:
    release = asyncio.Event()

    async def stubborn() -> bool:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue
        return True

    async def fine() -> bool:
        return True

    servicer = health.aio.HealthServicer()
    reporter = HealthReporter(
        servicer,
        ["agora.test.v1.S"],
        {"database": stubborn},
        timeout=0.05,
        informational={"user": fine},
    )
    assert await reporter.check_once() is False
    assert reporter.down == ["database"]
    overall = await servicer.Check(health_pb2.HealthCheckRequest(service=""), None)
    user = await servicer.Check(health_pb2.HealthCheckRequest(service="dependency.user"), None)
    assert overall.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert user.status == health_pb2.HealthCheckResponse.SERVING
    release.set()
    await asyncio.sleep(0)
