"""Client channels that rebuild themselves when their identity's certificate is renewed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from pkg.mtls._files import CHECK_INTERVAL, IdentityFiles, Material, RenewalWatch
from pkg.mtls._propagation import propagate
from pkg.obs import get_logger

_log = get_logger("agora.mtls")
_SERVICE_CONFIG = json.dumps(
    {"loadBalancingConfig": [{"round_robin": {}}], "healthCheckConfig": {"serviceName": ""}}
)

CLOSE_GRACE = 30.0
"""Default seconds a replaced channel's in-flight calls get before it is closed."""

RECONNECT_BACKOFF_MS = (100, 1000)
"""First and longest wait (ms) before reconnecting to an address that went away: a peer's
worker restarted by ``agora restart`` is used again within a second (gRPC's defaults, 1 s
growing to 120 s, would leave it idle long after it is back)."""


def _credentials(material: Material) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=material.root, private_key=material.key, certificate_chain=material.chain
    )


def channel_credentials(cert_dir: Path, name: str) -> grpc.ChannelCredentials:
    """Fixed mTLS client credentials presenting workload ``name``'s certificate as it is now
    (they never reload; ``secure_channel`` does), for short-lived synchronous channels.

    Waits out a torn renewal (new key, old certificate) for about a second. Raises
    ``OSError`` when a file is missing and ``ValueError`` when key and certificate differ.
    """
    return _credentials(IdentityFiles(cert_dir, name).initial()[1])


class _MultiCallable:
    """Resolves the owner's current channel per call; the real multicallable is made once
    per channel (re-creating the stub's method on the new channel after a rebuild)."""

    def __init__(
        self,
        owner: ReloadingChannel,
        kind: str,
        method: str,
        request_serializer: Any,
        response_deserializer: Any,
        registered: bool | None,
    ) -> None:
        self._owner = owner
        self._kind = kind
        self._method = method
        self._serializers = (request_serializer, response_deserializer)
        self._registered = registered
        self._channel: grpc.aio.Channel | None = None
        self._callable: Any = None

    def _current(self) -> Any:
        channel = self._owner._current_channel()
        if channel is not self._channel:
            factory = getattr(channel, self._kind)
            self._callable = factory(
                self._method, *self._serializers, _registered_method=self._registered
            )
            self._channel = channel
        return self._callable

    def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Any = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> Any:
        # Propagation here rather than in a client interceptor: an intercepted grpc.aio
        # call runs through an extra task and call object, about a tenth of a caller's CPU
        # per call in a profile of AddBasketItem.
        timeout, pairs, wait_for_ready = propagate(timeout, metadata, wait_for_ready)
        return self._current()(
            request,
            timeout=timeout,
            metadata=pairs,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )


class _UnaryUnary(_MultiCallable, grpc.aio.UnaryUnaryMultiCallable):
    pass


class _UnaryStream(_MultiCallable, grpc.aio.UnaryStreamMultiCallable):
    pass


class _StreamUnary(_MultiCallable, grpc.aio.StreamUnaryMultiCallable):
    pass


class _StreamStream(_MultiCallable, grpc.aio.StreamStreamMultiCallable):
    pass


class ReloadingChannel(grpc.aio.Channel):
    """A ``grpc.aio.Channel`` presenting ``identity``'s certificate, renewed without restart.

    Every call first asks for the current channel. At most every ``check_interval`` seconds
    that costs one ``stat`` per file (``intermediate_ca.crt``, ``<identity>.crt``, ``.key``); when
    they changed and the new key matches the new certificate, a new ``grpc.aio`` channel
    with the new credentials takes all new calls, and the previous one is closed with
    ``grace`` seconds for its in-flight calls (``grpc.aio.Channel.close``). A torn renewal
    (new key, old certificate) keeps the current channel until the next check. Generated
    stubs built on this object once keep working: their methods re-bind to the current
    channel. Use it inside the event loop that makes the calls.
    """

    def __init__(
        self,
        cert_dir: Path,
        identity: str,
        target: str,
        server: str,
        *,
        check_interval: float = CHECK_INTERVAL,
        grace: float = CLOSE_GRACE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        files = IdentityFiles(cert_dir, identity)
        self._renewals = RenewalWatch(
            files, *files.initial(), check_interval=check_interval, clock=clock
        )
        self._target = target
        self._options = [
            ("grpc.ssl_target_name_override", server),
            ("grpc.service_config", _SERVICE_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[0]),
            ("grpc.min_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[0]),
            ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[1]),
        ]
        self._grace = grace
        self._channel = self._build(self._renewals.material)
        self._retiring: dict[asyncio.Task[None], grpc.aio.Channel] = {}
        self._unclosed: list[grpc.aio.Channel] = []
        self._closed = False

    def _build(self, material: Material) -> grpc.aio.Channel:
        return grpc.aio.secure_channel(
            self._target,
            _credentials(material),
            options=self._options,
        )

    def _current_channel(self) -> grpc.aio.Channel:
        material = None if self._closed else self._renewals.poll()
        if material is not None:
            old, self._channel = self._channel, self._build(material)
            _log.info(
                "client certificate reloaded; channel rebuilt",
                extra={"identity": self._renewals.files.name, "target": self._target},
            )
            self._retire(old)
        return self._channel

    def _retire(self, old: grpc.aio.Channel) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop to close it on: close() will
            self._unclosed.append(old)
            return
        task = loop.create_task(old.close(self._grace))
        self._retiring[task] = old
        task.add_done_callback(lambda done: self._retiring.pop(done, None))

    async def close(self, grace: float | None = None) -> None:
        """Close the current channel and any replaced one still draining, with ``grace``."""
        self._closed = True
        retiring = dict(self._retiring)
        for task in retiring:
            task.cancel()
        await asyncio.gather(*retiring, return_exceptions=True)
        channels = [self._channel, *retiring.values(), *self._unclosed]
        self._unclosed.clear()
        await asyncio.gather(*(channel.close(grace) for channel in channels))

    async def __aenter__(self) -> ReloadingChannel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close(None)

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return self._current_channel().get_state(try_to_connect)

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await self._channel.wait_for_state_change(last_observed_state)

    async def channel_ready(self) -> None:
        await self._current_channel().channel_ready()

    def unary_unary(
        self,
        method: str,
        request_serializer: Any = None,
        response_deserializer: Any = None,
        _registered_method: bool | None = False,
    ) -> _UnaryUnary:
        return _UnaryUnary(
            self,
            "unary_unary",
            method,
            request_serializer,
            response_deserializer,
            _registered_method,
        )

    def unary_stream(
        self,
        method: str,
        request_serializer: Any = None,
        response_deserializer: Any = None,
        _registered_method: bool | None = False,
    ) -> _UnaryStream:
        return _UnaryStream(
            self,
            "unary_stream",
            method,
            request_serializer,
            response_deserializer,
            _registered_method,
        )

    def stream_unary(
        self,
        method: str,
        request_serializer: Any = None,
        response_deserializer: Any = None,
        _registered_method: bool | None = False,
    ) -> _StreamUnary:
        return _StreamUnary(
            self,
            "stream_unary",
            method,
            request_serializer,
            response_deserializer,
            _registered_method,
        )

    def stream_stream(
        self,
        method: str,
        request_serializer: Any = None,
        response_deserializer: Any = None,
        _registered_method: bool | None = False,
    ) -> _StreamStream:
        return _StreamStream(
            self,
            "stream_stream",
            method,
            request_serializer,
            response_deserializer,
            _registered_method,
        )


def secure_channel(
    cert_dir: Path,
    identity: str,
    target: str,
    server: str,
    *,
    check_interval: float = CHECK_INTERVAL,
    grace: float = CLOSE_GRACE,
) -> ReloadingChannel:
    """An mTLS channel from ``identity`` to service ``server`` at ``target`` that follows
    certificate renewals (``ReloadingChannel``); a drop-in ``grpc.aio.Channel``.

    ``target`` is any gRPC target (``127.0.0.1:50052``, ``ipv4:a:p,b:q``); calls are
    balanced per call (``round_robin``) over the addresses whose ``grpc.health.v1`` Watch
    for the overall service (``""``) says SERVING (client-side health checking), so a
    draining or unhealthy process gets no new calls.  Each call carries the running
    request's id, trace and remaining deadline (``pkg.mtls.propagate``).  The server's
    certificate must carry the DNS SAN ``server``.  The caller closes the channel.  Raises
    ``OSError`` when a file is missing and ``ValueError`` when key and certificate differ.
    """
    return ReloadingChannel(
        cert_dir, identity, target, server, check_interval=check_interval, grace=grace
    )
