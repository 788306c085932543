"""How many signed webhooks per second Kairos accepts into durable events.

The real web server (uvicorn + Starlette, ``bot.web.hooks``) on loopback, a
SQLite store (the default deployment) or the database in ``KAIROS_DATABASE_URL``,
and a client process sending ``count`` Kairos-signed requests with
``concurrency`` in flight. Each 202 means the event was committed. Requests are signed before the
clock starts. As a peer in the same run, the same load against ``/healthz``.

    .venv/bin/python bench/webhooks.py [--count 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bot.web import build_web_app, health_routes  # noqa: E402
from bot.web.hooks import hook_routes  # noqa: E402
from core import migrate  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.db import Database  # noqa: E402
from core.events.delivery import EventBus  # noqa: E402
from core.events.signing import kairos_signature  # noqa: E402
from core.events.webhooks import WebhookService  # noqa: E402
from core.store.events import EventStore  # noqa: E402
from core.store.run_types import FiredRun  # noqa: E402


class _Discard:
    """A run sink that drops runs: the benchmark measures intake, not execution."""

    def submit(self, runs: Any) -> None: ...

    def prepare(self, runs: list[FiredRun]) -> None: ...


async def _send(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> float:
    queue = list(reversed(requests))

    async def worker(client: aiohttp.ClientSession) -> None:
        while queue:
            body, headers = queue.pop()
            method = "POST" if headers else "GET"
            async with client.request(method, url, data=body, headers=headers) as response:
                assert response.status in (200, 202), response.status
                await response.read()

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - started


def _client(base: str, name: str, secret: str, count: int, concurrency: int) -> tuple[float, float]:
    """The load generator, in its own process: (webhook seconds, /healthz seconds).

    Requests are signed before the clock starts; the peer is the same number of
    ``GET /healthz`` on the same server and connections.
    """
    now = int(time.time())
    signed = []
    for i in range(count):
        body = json.dumps({"n": i, "ref": "refs/heads/main"}).encode()
        signed.append((body, {"X-Kairos-Signature": kairos_signature(secret, body, now)}))
    hooks = asyncio.run(_send(f"{base}/hooks/{name}", signed, concurrency))
    health = asyncio.run(_send(f"{base}/healthz", [(b"", {})] * count, concurrency))
    return hooks, health


async def _measure(count: int, concurrency: int, url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        await migrate.upgrade(url)
        db = Database(url)
        clock = SystemClock()
        store = EventStore(db)
        bus = EventBus(store=store, sink=_Discard(), clock=clock)
        hooks = WebhookService(store=store, clock=clock, bus=bus)
        name = f"bench-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        secret = (await hooks.create(name)).secret

        async def healthy() -> dict[str, object]:
            return {"database": "ok"}

        app = build_web_app(hook_routes(hooks) + health_routes(healthy))
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
        )
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
            await asyncio.sleep(0.01)
        try:
            loop = asyncio.get_running_loop()
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                hook_s, health_s = await loop.run_in_executor(
                    pool, _client, f"http://127.0.0.1:{port}", name, secret, count, concurrency
                )
            stored = await store.count()
        finally:
            server.should_exit = True
            await serving
            listener.close()
            await db.dispose()
        assert stored >= count, f"only {stored} of {count} events were stored"
        return {
            "webhooks_per_sec": round(count / hook_s, 1),
            "healthz_per_sec": round(count / health_s, 1),
            "count": count,
            "concurrency": concurrency,
            "backend": url.split(":", 1)[0],
        }


def measure_webhooks(
    count: int = 2000, *, concurrency: int = 32, rounds: int = 3, database_url: str | None = None
) -> dict[str, Any]:
    """Signed webhooks accepted per second into durable events (median of ``rounds``)."""
    results = [
        asyncio.run(_measure(count, concurrency, database_url)) for _ in range(max(1, rounds))
    ]
    median = statistics.median(r["webhooks_per_sec"] for r in results)
    peer = statistics.median(r["healthz_per_sec"] for r in results)
    return {
        "webhooks_per_sec": median,
        "healthz_per_sec": peer,
        "ratio_to_healthz": round(median / peer, 3) if peer else None,
        "rounds": [r["webhooks_per_sec"] for r in results],
        "count": count,
        "concurrency": concurrency,
        "backend": results[0]["backend"],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(
        json.dumps(
            measure_webhooks(
                args.count,
                concurrency=args.concurrency,
                rounds=args.rounds,
                database_url=args.database_url,
            )
        )
    )
