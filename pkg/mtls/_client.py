"""Typed clients: a reloading mTLS channel and a generated stub on it, closed by a stack."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import grpc

from pkg.mtls._channel import ReloadingChannel, secure_channel

S = TypeVar("S")


@dataclass(frozen=True)
class Client(Generic[S]):
    """A generated ``stub`` over ``channel`` (kept for health probes of the peer)."""

    channel: ReloadingChannel
    stub: S


def client(
    stack: AsyncExitStack,
    cert_dir: Path,
    identity: str,
    target: str,
    peer: str,
    stub_class: Callable[[grpc.aio.Channel], S],
) -> Client[S]:
    """A ``stub_class`` stub calling service ``peer`` at ``target`` as workload ``identity``.

    The channel is ``secure_channel`` (mTLS, reloaded on certificate renewal, round-robin
    over healthy addresses, request id / trace / deadline propagated by
    ``propagate``); its ``close`` is pushed onto ``stack``, the composition
    root's one cleanup stack.  Raises ``OSError`` when a certificate file is missing and
    ``ValueError`` when key and certificate differ.
    """
    channel = secure_channel(cert_dir, identity, target, peer)
    stack.push_async_callback(channel.close)
    return Client(channel=channel, stub=stub_class(channel))
