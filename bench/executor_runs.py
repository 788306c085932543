"""``kairos bench scheduler`` measurements of real executors (``shell``, ``http``).

* ``shell_overhead_ratio`` — ``ShellExecutor`` as Kairos builds it (spawn server,
  limits, scrubbed environment, pipes read concurrently) running ``/bin/true``,
  over a bare ``asyncio.create_subprocess_exec('/bin/true')`` loop, interleaved
  in chunks in the same run: the median of the passes (target ≤ 1.3);
* ``http_runs_per_sec`` — HTTP tasks due in the same second, fired by
  ``SchedulerEngine`` and run by ``WorkerPool`` (default settings) through the real
  ``HttpExecutor`` against a local aiohttp server in its own process: runs over
  the time from the first ``execute`` entered to the last run row recorded
  ``completed`` (target ≥ 500); ``http_bare_httpx_per_sec`` is the peer in the
  same run: bare ``httpx`` GETs to the same server, same concurrency limits.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.executor_overhead import overhead_ratio
from bench.scheduler_bench import BenchOptions, Figures, bulk_tasks, due_second, wait_until
from core.clock import SystemClock
from core.db import Database
from core.enums import Platform
from core.executors import ExecutorRegistry
from core.executors.http import CONNECTIONS, HttpExecutor
from core.executors.shell import ShellExecutor
from core.jobs import Job
from core.migrate import upgrade
from core.policy import ExecutionPolicy
from core.ports import ExecutionResult
from core.scheduler.engine import SchedulerEngine
from core.scheduler.workers import DEFAULT_PER_TYPE, WorkerPool
from core.store import SqlStore
from core.store.runs import RUNS, RunStore

HTTP_RUNS = 5000

_SERVER = """
import asyncio, sys
from aiohttp import web

async def ok(request):
    return web.Response(text="ok")

async def main():
    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


async def shell_overhead(options: BenchOptions, *, runs: int = 400, passes: int = 5) -> Figures:
    """``shell_overhead_ratio``: executor over bare ``create_subprocess_exec``."""
    options.say(f"shell: {passes} passes of {runs} runs, executor vs bare /bin/true …")
    data_dir = Path(tempfile.mkdtemp(prefix="kairos-bench-shell-"))
    os.chmod(data_dir, 0o755)  # a root Kairos runs jobs as nobody
    executor = ShellExecutor(ExecutionPolicy(data_dir=data_dir, shell_allow=("/bin/true",)))
    try:
        ratios = await overhead_ratio(executor, runs, passes)
    finally:
        await executor.aclose()
    return {"shell_overhead_ratio": round(statistics.median(ratios), 2)}


class _Entered:
    """Wraps an executor and notes when each ``execute`` was entered."""

    def __init__(self, inner: HttpExecutor) -> None:
        self.inner = inner
        self.action_model = inner.action_model
        self.first: float | None = None
        self.count = 0

    async def execute(self, job: Job) -> ExecutionResult:
        if self.first is None:
            self.first = time.time()
        self.count += 1
        return await self.inner.execute(job)


async def http_runs(options: BenchOptions, *, size: int = HTTP_RUNS) -> Figures:
    """``http_runs_per_sec`` through the scheduler, the worker pool and ``HttpExecutor``."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SERVER,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None and server.stdin is not None
    port = int((await server.stdout.readline()).decode())
    try:
        with tempfile.TemporaryDirectory(prefix="kairos-bench-http-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade(url)
            db = Database(url)
            try:
                figures = await _http_runs(db, Path(tmp), port, size, options)
            finally:
                await db.dispose()
            figures.update(await _bare_httpx(port, size, options))
            return figures
    finally:
        server.stdin.close()
        await server.wait()


async def _bare_httpx(port: int, size: int, options: BenchOptions) -> Figures:
    """The peer: ``size`` bare ``AsyncClient.get`` calls to the same server, as many in
    flight and through the same connection limit as ``HttpExecutor`` allows."""
    options.say(f"http: peer, {size:,} bare httpx requests …")
    limit = DEFAULT_PER_TYPE["http"]
    gate = asyncio.Semaphore(min(limit, CONNECTIONS))
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one() -> None:
            async with gate:
                response = await client.get(f"http://127.0.0.1:{port}/")
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(size)))
        seconds = time.perf_counter() - started
    return {"http_bare_httpx_per_sec": round(size / seconds, 1)}


async def _http_runs(
    db: Database, tmp: Path, port: int, size: int, options: BenchOptions
) -> Figures:
    clock = SystemClock()
    store = SqlStore(db)
    runs = RunStore(db)
    workspace = await store.ensure_workspace(Platform.CONSOLE, "bench", name="bench")
    assert workspace.id is not None
    http = _Entered(HttpExecutor(ExecutionPolicy(data_dir=tmp, http_allow_private=True)))
    pool = WorkerPool(store=runs, executors=ExecutorRegistry({"http": http}), clock=clock)
    engine = SchedulerEngine(store=runs, clock=clock, sink=pool)
    await pool.start()
    await engine.start()
    try:
        options.say(f"http: {size:,} HTTP tasks due in the same second, local server …")
        due = due_second(3)
        action = {"type": "http", "url": f"http://127.0.0.1:{port}/"}
        ids = await bulk_tasks(db, workspace.id, [due] * size, action=action)
        await engine.tasks_changed(ids)
        await wait_until(lambda: http.count >= size, 120)
        counts = (
            sa.select(RUNS.c.status, sa.func.count())
            .where(RUNS.c.task_id.in_(ids))
            .group_by(RUNS.c.status)
        )
        deadline = time.monotonic() + 120
        while True:
            async with db.engine.connect() as conn:
                by_status = dict((await conn.execute(counts)).tuples().all())
            if by_status.get("completed", 0) >= size:
                break
            if by_status.get("failed", 0) or time.monotonic() > deadline:
                raise RuntimeError(f"HTTP runs did not all complete: {by_status}")
            await asyncio.sleep(0.01)
        assert http.first is not None
        return {"http_runs_per_sec": round(size / (time.time() - http.first), 1)}
    finally:
        await engine.stop()
        await pool.stop()
        await http.inner.aclose()
