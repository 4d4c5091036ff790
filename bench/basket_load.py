"""AddBasketItem load through the edge as gRPC, for ``bench/agora_bench/commerce.py``.

h2load sends one request body over and over, but a basket line holds at most 99 units and
a basket 50 lines, so the same AddBasketItem repeated fails after 98 calls. This client
(grpc.aio over TLS, the mesh's root CA) gives each of ``--concurrency`` callers its own
customer token and walks the seeded products one unit at a time, so every request is a
successful add (at most 50 x 98 per customer). It runs in its own process so that the
bench meters its CPU apart from the servers'.

    python bench/basket_load.py --edge 127.0.0.1:PORT --ca root_ca.crt \
        --tokens tokens.txt --products products.txt --duration 10 --warmup 2 \
        [--concurrency 32 | --rate 300]

Prints one JSON object: ``requests`` (measured, i.e. after the warm-up), ``failed``,
``rps``, ``p50_ms``, ``p99_ms``, ``errors`` (status code name -> count). ``--rate`` is an
open loop: a call is started every 1/rate s whatever the answers (latency then includes
any queueing at the servers); otherwise ``--concurrency`` callers each wait for the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import grpc

from agora.basket.v1 import basket_pb2, basket_pb2_grpc

LINE_MOST = 98
"""Units a caller adds to one line before moving on (the line's bound is 99)."""


class Stats:
    """Latencies (seconds) and error codes of the calls that ended in the measured window."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()

    def record(self, began: float, ended: float, error: str | None) -> None:
        if not self.start <= began < self.end:
            return
        if error is None:
            self.latencies.append(ended - began)
        else:
            self.errors[error] += 1


def requests_for(products: list[str]) -> list[basket_pb2.AddBasketItemRequest]:
    """One request per unit: each product LINE_MOST times, product after product."""
    return [
        basket_pb2.AddBasketItemRequest(basket="users/me/basket", product=p, quantity=1)
        for p in products
        for _ in range(LINE_MOST)
    ]


async def call(
    stub: basket_pb2_grpc.BasketServiceStub,
    request: basket_pb2.AddBasketItemRequest,
    token: str,
    stats: Stats,
) -> None:
    began = time.monotonic()
    error: str | None = None
    try:
        await stub.AddBasketItem(
            request, metadata=(("authorization", f"Bearer {token}"),), timeout=10
        )
    except grpc.aio.AioRpcError as exc:
        error = exc.code().name
    stats.record(began, time.monotonic(), error)


async def closed_loop(
    stub: basket_pb2_grpc.BasketServiceStub, tokens: list[str], products: list[str], stats: Stats
) -> None:
    """Each token is one caller adding one unit after another until the window ends."""

    async def caller(token: str) -> None:
        for request in requests_for(products):
            if time.monotonic() >= stats.end:
                return
            await call(stub, request, token, stats)

    await asyncio.gather(*(caller(t) for t in tokens))


async def open_loop(
    stub: basket_pb2_grpc.BasketServiceStub,
    tokens: list[str],
    products: list[str],
    stats: Stats,
    rate: int,
) -> None:
    """A call every 1/rate s, round-robin over the tokens, until the window ends."""
    per_token = requests_for(products)
    pending: set[asyncio.Task[None]] = set()
    t0 = time.monotonic()
    for n in range(len(per_token) * len(tokens)):
        due = t0 + n / rate
        if due >= stats.end:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        task = asyncio.create_task(
            call(stub, per_token[n // len(tokens)], tokens[n % len(tokens)], stats)
        )
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending, timeout=15)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of ``values`` (sorted here)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def main(
    args: argparse.Namespace, tokens: list[str], products: list[str], ca: bytes
) -> dict[str, object]:
    """Run the load of ``args`` with ``tokens`` and ``products``; the figures (see above)."""
    credentials = grpc.ssl_channel_credentials(ca)
    options = (("grpc.ssl_target_name_override", "localhost"),)
    async with grpc.aio.secure_channel(args.edge, credentials, options=options) as channel:
        stub = basket_pb2_grpc.BasketServiceStub(channel)
        start = time.monotonic() + args.warmup
        stats = Stats(start, start + args.duration)
        if args.rate:
            await open_loop(stub, tokens, products, stats, args.rate)
        else:
            await closed_loop(stub, tokens[: args.concurrency], products, stats)
    done = stats.latencies
    return {
        "requests": len(done) + sum(stats.errors.values()),
        "failed": sum(stats.errors.values()),
        "rps": len(done) / args.duration,
        "p50_ms": statistics.median(done) * 1000 if done else None,
        "p99_ms": percentile(done, 0.99) * 1000 if done else None,
        "errors": dict(stats.errors),
    }


def parser() -> argparse.ArgumentParser:
    """The options (durations in seconds)."""
    p = argparse.ArgumentParser(description="AddBasketItem load through the edge (gRPC)")
    p.add_argument("--edge", required=True, help="host:port of the edge")
    p.add_argument("--ca", required=True, help="the mesh's root CA certificate")
    p.add_argument("--tokens", required=True, help="file of customer access tokens")
    p.add_argument("--products", required=True, help="file of ACTIVE product names")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--rate", type=int, default=0, help="calls per second (open loop)")
    return p


if __name__ == "__main__":
    arguments = parser().parse_args()
    figures = asyncio.run(
        main(
            arguments,
            Path(arguments.tokens).read_text().split(),
            Path(arguments.products).read_text().split(),
            Path(arguments.ca).read_bytes(),
        )
    )
    print(json.dumps(figures))
    sys.exit(0)
