"""Slack outbound throughput: N reminders to N channels handed to the adapter at once.

The real ``SlackAdapter.send`` (paced by ``bot.slack.outbound.Pacer``) posts
through real slack_sdk clients to the fake Slack Web API of the benchmarks
(``bench/slack_api.py``) answering after ``--latency`` seconds. Printed: the
time until the last message is posted, and the most calls in flight at once.
As a peer in the same run, the same sends go through an unpaced client
(``bot.slack.adapter.web_client``, what was used before). The issue's goal:
1,000 reminders to 1,000 channels all posted within 10 s at 300 ms latency.

    .venv/bin/python bench/slack_outbound.py [--n 1000] [--latency 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.slack_api import BenchSlack  # noqa: E402
from bot.slack.adapter import Clients, SlackAdapter, web_client  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.messages import Reply, ReplyKind  # noqa: E402


async def _burst(adapter: SlackAdapter, n: int, tag: str) -> float:
    replies = [
        Reply(text=f"Reminder: {tag} {i}", kind=ReplyKind.REMINDER, channel_ref=f"C{i:05d}")
        for i in range(n)
    ]
    started = time.perf_counter()
    refs = await asyncio.gather(*(adapter.send(r) for r in replies))
    elapsed = time.perf_counter() - started
    assert all(refs), "a post failed"
    return elapsed


async def main(n: int, latency: float) -> None:
    slack = BenchSlack(latency=(latency, latency))
    api_url = await slack.start()
    token = "xoxb-bench-T0001"
    clock = SystemClock()
    store: Any = None  # replies without a task never read the store
    try:
        paced = SlackAdapter(
            clients=Clients(base_url=api_url, token=token, installations=None, clock=clock),
            store=store,
            clock=clock,
        )
        unpaced_clients = Clients(base_url=api_url, token=token, installations=None, clock=clock)
        unpaced_clients._single = web_client(base_url=api_url, token=token)  # the old client
        unpaced = SlackAdapter(clients=unpaced_clients, store=store, clock=clock)
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, slack.in_flight[token])
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch(), name="bench-watch")
        took = await _burst(paced, n, "paced")
        paced_peak, peak = peak, 0
        peer = await _burst(unpaced, n, "unpaced")
        watcher.cancel()
    finally:
        await slack.stop()
    print(f"{n} reminders to {n} channels at once, Slack latency {latency * 1000:.0f} ms")
    print(f"  paced (SlackAdapter + Pacer) all posted in {took:6.2f} s, {paced_peak} in flight")
    print(f"  unpaced peer (old client)    all posted in {peer:6.2f} s, {peak} in flight")
    print(f"  ratio paced/unpaced {took / peer:.2f}; goal: within 10 s at 300 ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.latency))
