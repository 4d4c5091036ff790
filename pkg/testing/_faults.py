"""A TCP proxy that can hang or cut its connections, for dependency-failure tests."""

from __future__ import annotations

import asyncio
import contextlib


class FaultyProxy:
    """Forwards TCP connections from ``127.0.0.1:<port>`` to ``host:port`` of the target.

    ``pause()`` keeps every connection open but forwards nothing more in either direction
    (the target looks hung, like a process stopped with SIGSTOP, while the kernel still
    accepts connections); ``resume()`` forwards what was held and carries on.
    ``cut()`` closes every current connection (the target looks restarted).  ``stop()``
    cuts them and closes the listening socket, so new connections are refused (the target
    looks stopped); ``start()`` listens on the same port again.  Use
    ``async with FaultyProxy(host, port) as proxy:`` and connect to ``proxy.port``.
    """

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> FaultyProxy:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.resume()
        await self.stop()

    async def start(self) -> None:
        """Listen on ``port`` (any free one the first time); nothing when listening."""
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection and stop listening: connecting is refused until
        ``start()``."""
        server, self._server = self._server, None
        self.cut()
        if server is not None:
            server.close()
            await server.wait_closed()

    def pause(self) -> None:
        """Stop forwarding (connections stay open)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward again."""
        self._flowing.set()

    def cut(self) -> None:
        """Close every connection open now."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _accept(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.close()
            return
        self._writers.update((client_writer, upstream_writer))
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                self._pipe(client_reader, upstream_writer),
                self._pipe(upstream_reader, client_writer),
            )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)
