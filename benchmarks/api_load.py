"""API load on loopback: a real server process (uvicorn, SQLite) and a load generator in this process.

Measures, side by side in one run:
- open-loop latency (p50/p95/p99) of GET /healthz (the framework's ceiling, the peer here),
  GET /v1/products, GET /v1/orders/{id} and POST /v1/quotes (a real quote in one of five
  markets: FX, tax, lead time, origin and landed cost of every site) at a fixed request rate;
- closed-loop order placement throughput (POST /v1/orders, each a real quote + allocation +
  routing expansion + one SQLite transaction) with N concurrent clients.
Medians of several runs; the issue's bars: p95 <= 50 ms at 200 requests/s, >= 100 orders/s.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx  # the maintained fork starlette now uses; same client API
from rich.console import Console
from rich.table import Table

from microfab.control import access, operations
from microfab.control.bootstrap import bootstrap
from microfab.domain.access import Role
from microfab.domain.commands import PlaceOrder
from microfab.manifests import load_resources
from microfab.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "network"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(db: str) -> tuple[str, str]:
    services = bootstrap(Settings(db=db))
    operations.apply_plan(services, operations.plan_apply(services, load_resources(EXAMPLE)))
    at = datetime.now(UTC)
    operator = access.create_key(
        services.state, services.log, role=Role.OPERATOR, customer=None, market=None, label="bench", at=at
    )[1]
    order = operations.place(services, PlaceOrder("bench", "laptop-stand", {}, 1, "de")).order.id
    services.close()
    return operator, order


def _serve(db: str, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; from microfab.api import create_app; from microfab.api.app import ApiSettings; "
        f"from microfab.settings import Settings; uvicorn.run(create_app(Settings(db={db!r}), "
        "api=ApiSettings(order_rate_per_s=1e6, order_burst=10**6)), "
        f"host='127.0.0.1', port={port}, log_level='warning')"
    )
    return subprocess.Popen([sys.executable, "-c", code], env={**os.environ})


Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
_MARKETS = ("us", "mx", "de", "jp", "vn")


def _get(path: str) -> Send:
    return lambda client, _: client.get(path)


def _quote(client: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
    """A real quote: every market in turn (FX, tax, lead time, origin and landed cost of every site)."""
    body = {"product": "laptop-stand", "quantity": 1 + i % 5, "market": _MARKETS[i % 5], "b2b": i % 2 == 0}
    return client.post("/v1/quotes", json=body)


async def _open_loop(client: httpx.AsyncClient, send: Send, rate: float, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0

    async def one(i: int) -> None:
        nonlocal errors
        start = time.perf_counter()
        response = await send(client, i)
        latencies.append((time.perf_counter() - start) * 1000)
        errors += response.status_code >= 400

    tasks = []
    begin = time.perf_counter()
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, begin + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return latencies, errors


async def _closed_loop(client: httpx.AsyncClient, clients: int, seconds: float) -> tuple[float, int]:
    done = errors = 0
    stop = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal done, errors
        while time.perf_counter() < stop:
            body = {"product": "laptop-stand", "quantity": 1 + n % 3, "customer": f"c{n}", "market": _MARKETS[n % 5]}
            response = await client.post("/v1/orders", json=body)
            done += response.status_code == 201
            errors += response.status_code != 201

    begin = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    return done / (time.perf_counter() - begin), errors


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(base: str, key: str, order: str, *, rate: float, seconds: float, clients: int) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        for i in range(20):  # warm up (each market's first quote loads its locale, holidays and rates)
            await client.get("/v1/products")
            await _quote(client, i)
        results: dict[str, object] = {}
        for label, send in (
            ("GET /healthz", _get("/healthz")),
            ("GET /v1/products", _get("/v1/products")),
            ("GET /v1/orders/{id}", _get(f"/v1/orders/{order}")),
            ("POST /v1/quotes", _quote),
        ):
            results[label] = await _open_loop(client, send, rate, seconds)
        results["POST /v1/orders"] = await _closed_loop(client, clients, seconds)
    return results


def main(*, quick: bool = False) -> None:
    runs, rate, seconds, clients = (1, 100.0, 2.0, 4) if quick else (3, 200.0, 5.0, 8)
    samples: list[dict[str, object]] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{Path(tmp) / 'api.db'}"
            key, order = _prepare(db)
            port = _free_port()
            server = _serve(db, port)
            try:
                base = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise SystemExit("the API server did not start")
                    time.sleep(0.1)
                samples.append(asyncio.run(_measure(base, key, order, rate=rate, seconds=seconds, clients=clients)))
            finally:
                server.terminate()
                server.wait(timeout=30)
    table = Table(
        "request",
        "load",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "p95 vs /healthz",
        title=f"API on loopback (uvicorn, SQLite), median of {runs} runs",
    )
    base_p95 = statistics.median(_pct(s["GET /healthz"][0], 0.95) for s in samples)  # type: ignore[index]
    for label in ("GET /healthz", "GET /v1/products", "GET /v1/orders/{id}", "POST /v1/quotes"):
        lat = [s[label] for s in samples]
        p50 = statistics.median(_pct(x[0], 0.50) for x in lat)  # type: ignore[index]
        p95 = statistics.median(_pct(x[0], 0.95) for x in lat)  # type: ignore[index]
        p99 = statistics.median(_pct(x[0], 0.99) for x in lat)  # type: ignore[index]
        errors = sum(x[1] for x in lat)  # type: ignore[index]
        table.add_row(
            label, f"{rate:g} req/s", f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}", str(errors), f"{p95 / base_p95:.2f}"
        )
    placed = [s["POST /v1/orders"] for s in samples]
    per_s = statistics.median(x[0] for x in placed)  # type: ignore[index]
    table.add_row(
        "POST /v1/orders",
        f"{clients} clients, closed loop",
        f"{per_s:.0f} orders/s",
        "",
        "",
        str(sum(x[1] for x in placed)),  # type: ignore[index]
        "",
    )
    Console().print(table)
