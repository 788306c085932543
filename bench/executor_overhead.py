"""Benchmark: what the shell and HTTP executors add per run, as ratios to bare peers.

* shell — ``ShellExecutor`` running ``/bin/true`` (own process group, scrubbed
  environment, rlimits, pipes read concurrently) vs a bare
  ``asyncio.create_subprocess_exec('/bin/true')`` loop, interleaved in chunks,
  the median ratio per way of applying the limits (the spawn server, the
  default; the prlimit/setpriv prefix and ``preexec_fn`` fallbacks);
* http — ``HttpExecutor`` runs per second against a local aiohttp server.

Usage::

    .venv/bin/python bench/executor_overhead.py [--runs 200] [--passes 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

import core.executors.shell as shell
from core.enums import RunTrigger, TaskKind
from core.executors.http import HttpExecutor
from core.executors.logs import MemoryLogSink
from core.jobs import Job, TaskSnapshot
from core.policy import ExecutionPolicy


def _job(action: dict[str, Any]) -> Job:
    snapshot = TaskSnapshot(
        id=1,
        workspace_id=1,
        kind=TaskKind.JOB,
        title="bench",
        description="",
        timezone="UTC",
        channel_ref=None,
        thread_ref=None,
        created_by=None,
        action=action,
    )
    return Job(
        run_id=1,
        task=snapshot,
        scheduled_for=datetime.now(UTC),
        attempt=1,
        trigger=RunTrigger.MANUAL,
        timeout_seconds=30,
        log=MemoryLogSink(65536),
    )


async def _bare(runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        proc = await asyncio.create_subprocess_exec("/bin/true")
        await proc.wait()
    return time.perf_counter() - started


async def _shell(executor: shell.ShellExecutor, runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        await executor.execute(_job({"type": "shell", "command": "/bin/true"}))
    return time.perf_counter() - started


async def overhead_ratio(executor: shell.ShellExecutor, runs: int, passes: int) -> list[float]:
    """Per pass: the executor's time for ``runs`` runs over a bare loop's, the two
    interleaved in chunks of 20 so that the machine's load hits both alike."""
    await _shell(executor, 5)  # warm up: the spawn server starts on first use
    ratios = []
    for _ in range(passes):
        bare = ours = 0.0
        for _ in range(max(1, runs // 20)):
            bare += await _bare(20)
            ours += await _shell(executor, 20)
        ratios.append(ours / bare)
    return ratios


async def _none(limits: object, user: object) -> None:
    return None


async def shell_ratios(runs: int, passes: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="kairos-bench-"))
    os.chmod(data_dir, 0o755)
    prefix, server = shell._limit_prefix, shell._spawn_server
    ways = {
        "spawn server (default)": (prefix, server),
        "prlimit/setpriv prefix": (prefix, _none),
        "preexec_fn": (lambda limits, user: None, _none),
    }
    for name, (use_prefix, use_server) in ways.items():
        shell._limit_prefix, shell._spawn_server = use_prefix, use_server
        executor = shell.ShellExecutor(ExecutionPolicy(data_dir=data_dir, shell_allow=("*",)))
        try:
            ratios = await overhead_ratio(executor, runs, passes)
        finally:
            await executor.aclose()
        print(
            f"shell ({name}, {'as root: job user switched' if os.geteuid() == 0 else 'non-root'}): "
            f"executor / bare = median {statistics.median(ratios):.2f} "
            f"(passes: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    shell._limit_prefix, shell._spawn_server = prefix, server


async def http_rate(runs: int) -> None:
    app = web.Application()

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    policy = ExecutionPolicy(data_dir=Path(tempfile.mkdtemp()), http_allow_private=True)
    executor = HttpExecutor(policy)
    action = {"type": "http", "url": f"http://127.0.0.1:{port}/"}
    try:
        for concurrency in (1, 32):
            gate = asyncio.Semaphore(concurrency)
            started = time.perf_counter()
            await asyncio.gather(*(_gated(gate, executor, action) for _ in range(runs * 5)))
            rate = runs * 5 / (time.perf_counter() - started)
            print(f"http: {rate:.0f} runs/s at concurrency {concurrency} (server in-process)")
    finally:
        await executor.aclose()
        await runner.cleanup()


async def _gated(gate: asyncio.Semaphore, executor: HttpExecutor, action: dict[str, Any]) -> None:
    async with gate:
        await executor.execute(_job(action))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(shell_ratios(args.runs, args.passes))
    asyncio.run(http_rate(args.runs))


if __name__ == "__main__":
    main()
