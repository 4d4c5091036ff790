"""The commerce targets (issue 12): ListProducts through the edge as HTTP/JSON (the first
page of 20 with a full-text filter; wrk closed loop, h2load at a fixed rate) and
AddBasketItem through the edge as gRPC (``bench/basket_load.py``, closed loop and fixed
rate), on products an admin seeded through the edge."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import urllib.parse
from pathlib import Path

from .cpu import cpu_meter, listening_pids
from .loadgen import wrk
from .mesh import Mesh, agora_cmd, edge_json, get_token
from .parsers import h2load_result
from .processes import run
from .results import BENCH, FIXED_RATE, ROOT, Result, Settings, log, redact

PRODUCTS = 50
"""Products seeded (a basket holds at most 50 lines, so the AddItem load can use them all)."""
CUSTOMERS = 32
"""Customer tokens for the AddItem load: one per caller in flight (the h2load 4 x 8)."""
SEARCH = "kettle"
"""The full-text word every seeded product's description holds."""
LIST_QUERY = urllib.parse.urlencode({"filter": SEARCH, "pageSize": "20"})
"""ListProducts' query string: the first page of 20 of a text search."""


def commerce_rows() -> list[Result]:
    """The unmeasured rows of the commerce targets, in table order."""
    return [
        Result("list-http", f"GET /v1/products?filter={SEARCH}&pageSize=20 → edge, HTTP/JSON"),
        Result(
            "list-http-fixed",
            f"the same, fixed {FIXED_RATE} RPS (h2load over HTTP/2, 10 clients, open loop)",
        ),
        Result("additem-grpc", "AddBasketItem → edge, gRPC (grpc.aio client, 32 callers)"),
        Result(
            "additem-grpc-fixed",
            f"AddBasketItem → edge, gRPC, fixed {FIXED_RATE} RPS (open loop)",
        ),
    ]


def admin_token(mesh: Mesh) -> str:
    """An admin made with ``agora create-admin`` in the mesh's data directory, logged in
    through the edge; its access token. Raises ``RuntimeError`` when a step fails."""
    email = f"bench-admin-{secrets.token_hex(6)}@example.com"
    password = f"Bench-admin-{secrets.token_urlsafe(12)}-9"
    cmd = [
        *agora_cmd(),
        "create-admin",
        "--data-dir",
        str(mesh.data_dir),
        "--email",
        email,
        "--display-name",
        "Bench admin",
        "--password",
        password,
    ]
    proc = run(cmd, timeout=60, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"create-admin exited {proc.returncode}: {proc.stderr.strip()[-200:]}")
    status, reply = edge_json(
        mesh, "POST", "/v1/auth:login", {"email": email, "password": password}
    )
    token = reply.get("accessToken") if status == 200 else None
    if not isinstance(token, str) or not token:
        raise RuntimeError(f"admin login answered HTTP {status}: {json.dumps(reply)[:200]}")
    return token


def seed_products(mesh: Mesh, token: str, currency: str) -> list[str]:
    """Create and activate ``PRODUCTS`` products (title, a description holding ``SEARCH``,
    a price in ``currency``, a large stock, two categories); their names.
    Raises ``RuntimeError`` naming the first failed call."""
    names = []
    for n in range(PRODUCTS):
        body: dict[str, object] = {
            "title": f"Bench product {n}",
            "description": f"A {SEARCH} for the benchmark, number {n}",
            "price": {"currencyCode": currency, "units": str(5 + n), "nanos": 990_000_000},
            "stockQuantity": "1000000",
            "categories": ["bench", f"shelf-{n % 5}"],
        }
        status, reply = edge_json(mesh, "POST", "/v1/products", body, token)
        if status != 200:
            raise RuntimeError(f"CreateProduct answered HTTP {status}: {json.dumps(reply)[:200]}")
        name = str(reply["name"])
        status, reply = edge_json(mesh, "POST", f"/v1/{name}:activate", {}, token)
        if status != 200:
            raise RuntimeError(f"ActivateProduct answered HTTP {status}: {json.dumps(reply)[:200]}")
        names.append(name)
    return names


def h2load_get(
    tools: dict[str, str],
    s: Settings,
    work: Path,
    result: Result,
    url: str,
    roots: dict[str, int],
) -> Result:
    """GET ``url`` with h2load at ``FIXED_RATE`` (10 clients, open loop), metered."""
    log_file = work / f"h2load-{result.name}.log"
    cmd = [
        tools["h2load"],
        "-c",
        "10",
        "-m",
        "1",
        "--rps",
        str(FIXED_RATE // 10),
        "-D",
        str(s.duration),
        f"--warm-up-time={s.warmup}",
        f"--log-file={log_file}",
        url,
    ]
    log(f"{result.name}: {redact(cmd)}")
    with cpu_meter(result, roots, "h2load"):
        proc = run(cmd, timeout=s.duration + s.warmup + 60)
    (work / f"h2load-{result.name}.out").write_text(proc.stdout + proc.stderr)
    log_text = log_file.read_text() if log_file.exists() else ""
    return h2load_result(result, proc.returncode, proc.stdout, proc.stderr, log_text, 0)


def basket_load(
    s: Settings,
    work: Path,
    mesh: Mesh,
    result: Result,
    tokens: Path,
    products: Path,
    roots: dict[str, int],
    rate: int = 0,
) -> Result:
    """Run ``bench/basket_load.py`` (closed loop, or ``rate`` calls per second), metered
    (its CPU counts as the load generator's); fill ``result`` or set its note."""
    cmd = [
        sys.executable,
        str(BENCH / "basket_load.py"),
        "--edge",
        f"127.0.0.1:{mesh.edge_port}",
        "--ca",
        str(mesh.cert_dir / "root_ca.crt"),
        "--tokens",
        str(tokens),
        "--products",
        str(products),
        "--duration",
        str(s.duration),
        "--warmup",
        str(s.warmup),
        *(["--rate", str(rate)] if rate else ["--concurrency", str(CUSTOMERS)]),
    ]
    log(f"{result.name}: {' '.join(cmd)}")
    try:
        with cpu_meter(result, roots, "grpc.aio client"):
            proc = run(cmd, timeout=s.duration + s.warmup + 60, cwd=ROOT)
    except subprocess.TimeoutExpired:
        result.note = "basket_load.py did not finish in time"
        return result
    (work / f"load-{result.name}.out").write_text(proc.stdout + proc.stderr)
    try:
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result.note = f"basket_load.py failed (exit {proc.returncode}): {proc.stderr[-200:]}"
        return result
    result.rps = figures["rps"]
    result.p50_ms = figures["p50_ms"]
    result.p99_ms = figures["p99_ms"]
    result.requests = figures["requests"]
    result.failed = figures["failed"]
    if figures["errors"]:
        result.note = f"errors: {figures['errors']}"
    return result


def bench_commerce(
    tools: dict[str, str], s: Settings, work: Path, mesh: Mesh, rows: list[Result]
) -> None:
    """Seed products and customers in ``mesh``, then measure ``commerce_rows()`` (appended
    to ``rows``); when seeding fails each row carries the reason in its note."""
    from pkg.config import MeshSettings

    targets = commerce_rows()
    list_http, list_fixed, additem, additem_fixed = targets
    rows.extend(targets)
    try:
        admin = admin_token(mesh)
        names = seed_products(mesh, admin, MeshSettings().currency)
        customers = [get_token(mesh) for _ in range(CUSTOMERS)]
    except (RuntimeError, OSError, ValueError, KeyError) as exc:
        for target in targets:
            target.note = f"not measurable: {exc}"
        return
    products = work / "products.txt"
    products.write_text("\n".join(names) + "\n")
    roots = listening_pids(mesh.ports)
    list_url = f"https://127.0.0.1:{mesh.edge_port}/v1/products?{LIST_QUERY}"
    wrk(tools, s, work, list_http, list_url, [f"Authorization: Bearer {customers[0]}"], roots)
    h2load_get(tools, s, work, list_fixed, list_url, roots)
    tokens = work / "tokens.txt"
    tokens.write_text("\n".join(customers) + "\n")
    basket_load(s, work, mesh, additem, tokens, products, roots)
    # The fixed-rate run walks the products from the other end, so that the same
    # customers' lines are fresh (Register's rate limit makes new customers costly).
    backwards = work / "products-reversed.txt"
    backwards.write_text("\n".join(reversed(names)) + "\n")
    basket_load(s, work, mesh, additem_fixed, tokens, backwards, roots, rate=FIXED_RATE)
