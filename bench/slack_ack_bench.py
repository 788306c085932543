"""How fast Kairos acknowledges Slack: 50 concurrent signed slash commands.

Runs the real Slack surface (bolt on Kairos's Starlette app) under a real
uvicorn on loopback, with the fake Slack Web API of the tests and a SQLite
store, fires N concurrent signed ``/kairos`` commands and prints the p50/p99
time until the HTTP response (the ack). Slack's limit is 3 s; the target is
p99 < 100 ms. As a peer in the same run (these machines are shared and noisy),
the same concurrency against ``GET /healthz`` is measured and the ratio printed.

    .venv/bin/python bench/slack_ack_bench.py [--n 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "slack")]

from fake_slack import FakeSlack  # noqa: E402  (test helper, path set above)
from signing import SECRET, form_request  # noqa: E402

from bot.app import Kairos  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web import build_web_app, health_routes  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _burst(client: aiohttp.ClientSession, n: int, make: Any) -> list[float]:
    """``n`` requests at once; each timed from its send to its response status.

    Requests are built (and signed) before any clock starts, and the client is
    aiohttp: the figure is the server's ack, not the load generator's overhead.
    """
    requests = [make(i) for i in range(n)]

    async def one(method: str, url: str, kwargs: dict[str, Any]) -> float:
        started = time.perf_counter()
        async with client.request(method, url, **kwargs) as response:
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status == 200, response.status
            await response.read()
        return elapsed

    return list(await asyncio.gather(*(one(*r) for r in requests)))


class Timed:
    """ASGI wrapper: server-side time from request arrival to the response start.

    That is the ack as Kairos produces it, without the client's own queueing.
    """

    def __init__(self, app: Any, timings: dict[str, list[float]]) -> None:
        self.app = app
        self.timings = timings

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/bench/timings":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                self.timings.setdefault(scope["path"], []).append(elapsed)
            await send(message)

        await self.app(scope, receive, timed_send)


async def serve(ready_file: str) -> None:
    """The server side, in its own process: fake Slack API, store, surface, uvicorn."""
    fake = FakeSlack()
    api_url = await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        settings = Settings(
            _env_file=None,
            database_url=url,  # type: ignore[call-arg]
            slack_bot_token=SecretStr("xoxb-bench-T0001"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=api_url,
        )
        kairos = await Kairos.open(settings)  # the real composition root, scheduler included
        surface = kairos.add_slack()
        await kairos.start()

        async def healthy() -> dict[str, object]:
            return {}

        timings: dict[str, list[float]] = {}

        async def report(_request: Request) -> JSONResponse:
            data = dict(timings)
            timings.clear()
            return JSONResponse(data)

        app = Timed(
            build_web_app(
                [*health_routes(healthy), *surface.routes(), Route("/bench/timings", report)]
            ),
            timings,
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        serving = asyncio.create_task(server.serve(), name="bench-uvicorn")
        while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        await asyncio.to_thread(Path(ready_file).write_text, f"{port} {fake.url}")
        await serving
        await kairos.close()
    await fake.stop()


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "ready"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", str(ready), cwd=str(ROOT)
        )
        try:
            while not ready.exists() or not ready.read_text():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            port, fake_url = ready.read_text().split()
            await _measure(f"http://127.0.0.1:{port}", fake_url, n, rounds)
        finally:
            proc.terminate()
            await proc.wait()


async def _measure(base: str, fake_url: str, n: int, rounds: int) -> None:
    def command(i: int) -> tuple[str, str, dict[str, Any]]:
        body, headers = form_request(
            {
                "team_id": "T0001",
                "channel_id": "C0001",
                "user_id": f"U{i % 7:04d}",
                "user_name": "bench",
                "command": "/kairos",
                "text": "list",
                "response_url": f"{fake_url}/response/b{i}",
                "trigger_id": f"t{i}",
            }
        )
        return "POST", f"{base}/slack/events", {"data": body, "headers": headers}

    def health(i: int) -> tuple[str, str, dict[str, Any]]:
        return "GET", f"{base}/healthz", {}

    connector = aiohttp.TCPConnector(limit=n)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        # Warm-up: open the n connections, let bolt run auth.test and cache profiles.
        await _burst(client, n, health)
        await _burst(client, 10, command)
        await asyncio.sleep(0.5)
        async with client.get(f"{base}/bench/timings"):  # forget the warm-up
            pass
        acks: list[float] = []
        peers: list[float] = []
        for _ in range(rounds):
            acks += await _burst(client, n, command)
            await asyncio.sleep(0.5)  # let the post-ack work drain between bursts
            peers += await _burst(client, n, health)
        async with client.get(f"{base}/bench/timings") as response:
            server_side = await response.json()
    p50, p99 = _pct(acks, 0.50), _pct(acks, 0.99)
    h50, h99 = _pct(peers, 0.50), _pct(peers, 0.99)
    print(f"slash command ack, {n} concurrent x {rounds} rounds ({len(acks)} requests)")
    print(
        f"  ack      p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   max {max(acks):7.1f} ms   "
        f"mean {statistics.fmean(acks):6.1f} ms"
    )
    print(f"  /healthz p50 {h50:7.1f} ms   p99 {h99:7.1f} ms   (peer, same concurrency)")
    print(f"  ratio ack/healthz p50 {p50 / h50:4.1f}x  p99 {p99 / h99:4.1f}x")
    print(f"  target p99 < 100 ms: {'met' if p99 < 100 else 'NOT met'} (as the client saw it)")
    inside = server_side.get("/slack/events", [])
    peer_inside = server_side.get("/healthz", [])
    if inside and peer_inside:
        s50, s99 = _pct(inside, 0.50), _pct(inside, 0.99)
        print(
            f"  server-side ack p50 {s50:7.1f} ms   p99 {s99:7.1f} ms   "
            f"(/healthz p50 {_pct(peer_inside, 0.5):.1f} p99 {_pct(peer_inside, 0.99):.1f})"
        )
        print(f"  target p99 < 100 ms server-side: {'met' if s99 < 100 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", metavar="READY_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
    else:
        asyncio.run(main(args.n, args.rounds))
