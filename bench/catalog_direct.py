"""The catalog's CPU per call, called straight over mTLS: what a call costs the service
without the edge, the basket or a load generator competing for the same cores.

    agora up --detach --data-dir D --workers catalog=1
    python bench/catalog_direct.py --data-dir D [--calls 3000] [--in-flight 16]

Seeds products as the bench does (an admin through the edge), then for each kind of call
(a bare ``grpc.health.v1`` Check, BatchGetProducts of 1 and of 20 products, ListProducts'
text-filtered page of 20, GetProduct) runs ``--calls`` calls with ``--in-flight`` at once
from one ``pkg.mtls`` channel presenting the ``basket`` identity, and prints the calls per
second, the catalog process's CPU µs per call (psutil, user + system) and this client's.
One worker only: with more, the figure is of the worker the process table lists first.
Loopback only; the loop is bounded by ``--calls``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agora_bench.commerce import admin_token, seed_products
from agora_bench.mesh import mesh_from_state

from agora.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from pkg.config import MeshSettings
from pkg.mtls import secure_channel
from pkg.runtime import read_mesh_state


def _catalog_process() -> psutil.Process:
    for process in psutil.process_iter(["cmdline"]):
        if "services.catalog" in " ".join(process.info["cmdline"] or ()):
            return process
    raise SystemExit("no catalog process is running")


async def _measure(
    name: str, call: Callable[[], Awaitable[Any]], calls: int, in_flight: int
) -> str:
    process = _catalog_process()
    await call()
    per_caller = max(1, calls // in_flight)

    async def caller() -> None:
        for _ in range(per_caller):
            await call()

    before, mine, began = process.cpu_times(), time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(in_flight)))
    elapsed, after = time.perf_counter() - began, process.cpu_times()
    done = per_caller * in_flight
    used = after.user + after.system - before.user - before.system
    client = time.process_time() - mine
    return (
        f"{name:<12} {done / elapsed:7,.0f} calls/s  catalog {used / done * 1e6:6,.0f} µs/call"
        f"  client {client / done * 1e6:5,.0f} µs/call"
    )


async def main(data_dir: Path, calls: int, in_flight: int) -> None:
    """Seed, measure each kind of call, print one line each."""
    mesh = mesh_from_state(data_dir, owned=False)
    names = seed_products(mesh, admin_token(mesh), MeshSettings().currency)
    state = read_mesh_state(data_dir)
    port = state["ports"]["workers"]["catalog"][0]
    channel = secure_channel(data_dir / "certs", "basket", f"127.0.0.1:{port}", "catalog")
    internal = catalog_pb2_grpc.CatalogInternalServiceStub(channel)
    public = catalog_pb2_grpc.CatalogServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    kinds: dict[str, Callable[[], Awaitable[Any]]] = {
        "health": lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=5),
        "batchget-1": lambda: internal.BatchGetProducts(
            catalog_pb2.BatchGetProductsRequest(names=names[:1]), timeout=5
        ),
        "batchget-20": lambda: internal.BatchGetProducts(
            catalog_pb2.BatchGetProductsRequest(names=names[:20]), timeout=5
        ),
        "list-20": lambda: public.ListProducts(
            catalog_pb2.ListProductsRequest(filter="kettle", page_size=20), timeout=5
        ),
        "get": lambda: public.GetProduct(catalog_pb2.GetProductRequest(name=names[0]), timeout=5),
    }
    try:
        for name, call in kinds.items():
            print(await _measure(name, call, calls, in_flight), flush=True)
    finally:
        await channel.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=16)
    args = parser.parse_args()
    if not 1 <= args.calls <= 100_000 or not 1 <= args.in_flight <= 256:
        parser.error("--calls must be 1..100000 and --in-flight 1..256")
    asyncio.run(main(args.data_dir, args.calls, args.in_flight))
