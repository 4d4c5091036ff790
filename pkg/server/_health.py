"""gRPC health (``grpc.health.v1``) that follows the service's real dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping

from grpc_health.v1 import health, health_pb2

from pkg.obs import get_logger

Probe = Callable[[], Awaitable[bool]]


class DrainableHealthServicer(health.aio.HealthServicer):
    """``grpc.health.v1`` whose open ``Watch`` streams can be ended (status OK) at once.

    A Watch stream never ends by itself, so ``server.stop(grace)`` would wait out the whole
    grace period for it; ``end_watches`` ends them right before the server stops.
    """

    def __init__(self) -> None:
        super().__init__()
        self._watches: set[asyncio.Task[object]] = set()
        self._ending = False

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: object) -> None:
        task = asyncio.current_task()
        if task is None or self._ending:
            return
        self._watches.add(task)
        try:
            await super().Watch(request, context)
        except asyncio.CancelledError:
            if not self._ending:
                raise
            task.uncancel()
        finally:
            self._watches.discard(task)

    def end_watches(self) -> None:
        """End every open Watch stream (and any opened later) with status OK."""
        self._ending = True
        for task in list(self._watches):
            task.cancel()


_log = get_logger("agora.health")


class HealthReporter:
    """Runs dependency probes every ``interval`` seconds and publishes the result.

    ``probes`` maps a dependency name (``database``, ``redis``, ``user``) to a coroutine
    returning ``True`` when it is usable; a probe that raises or takes longer than
    ``timeout`` seconds counts as down at once (a late one is cancelled in the background,
    since a driver may take long to give up on a hung server).  The overall service
    (``""``) and each name in ``services`` are SERVING only while every probe passes, and
    NOT_SERVING otherwise; the state recovers by itself when the dependency returns.

    ``informational`` probes (a downstream only some RPCs need, e.g. auth's ``user``) do
    not affect that: each is published under its own health service name
    ``dependency.<name>`` and its changes are logged, so the process stays in the
    balancers' rotation for the RPCs that do not need it.
    """

    def __init__(
        self,
        servicer: health.aio.HealthServicer,
        services: Iterable[str],
        probes: Mapping[str, Probe],
        *,
        interval: float = 2.0,
        timeout: float = 1.0,
        informational: Mapping[str, Probe] | None = None,
    ) -> None:
        self._servicer = servicer
        self._services = ["", *services]
        self._probes = dict(probes)
        self._informational = dict(informational or {})
        self._known: dict[str, bool] = {}
        self._abandoned: set[asyncio.Future[bool]] = set()
        self._interval = interval
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self.serving: bool | None = None
        self.down: list[str] = []

    async def _probe(self, probe: Probe) -> bool:
        task = asyncio.ensure_future(probe())
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if not done:
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(self._forget)
            return False
        return not task.cancelled() and task.exception() is None and bool(task.result())

    def _forget(self, task: asyncio.Future[bool]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled():
            task.exception()

    async def check_once(self) -> bool:
        """Run every probe once, publish the status, and return whether all passed."""
        probes = [*self._probes.values(), *self._informational.values()]
        everything = await asyncio.gather(*(self._probe(p) for p in probes))
        results = everything[: len(self._probes)]
        for name, ok in zip(self._informational, everything[len(self._probes) :], strict=True):
            await self._servicer.set(
                f"dependency.{name}",
                health_pb2.HealthCheckResponse.SERVING
                if ok
                else health_pb2.HealthCheckResponse.NOT_SERVING,
            )
            if self._known.get(name) != ok:
                _log.info("dependency health changed", extra={"dependency": name, "serving": ok})
                self._known[name] = ok
        down = [name for name, ok in zip(self._probes, results, strict=True) if not ok]
        serving = not down
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in self._services:
            await self._servicer.set(name, status)
        if serving != self.serving:
            _log.info("health changed", extra={"serving": serving, "down": down})
        self.serving, self.down = serving, down
        return serving

    async def _loop(self) -> None:
        while True:
            await self.check_once()
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        """Start probing in a background task."""
        self._task = asyncio.create_task(self._loop(), name="health-probes")

    async def stop(self) -> None:
        """Stop probing and mark everything NOT_SERVING (graceful shutdown)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._servicer.enter_graceful_shutdown()
