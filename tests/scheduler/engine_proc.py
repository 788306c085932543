"""A real Kairos scheduler process for the crash tests: ``engine_proc.py URL LOG [LOOKAHEAD]``.

Runs the engine and worker pool on the system clock. Its executor appends
``start``/``end`` lines to LOG and takes 0.3 s per run, so a ``kill -9`` lands
mid-run. SIGTERM stops it gracefully.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from core.clock import SystemClock
from core.db import Database
from core.executors import ExecutorRegistry
from core.jobs import Job
from core.ports import ExecutionResult
from core.scheduler.engine import LOOKAHEAD_SECONDS, SchedulerEngine
from core.scheduler.workers import PoolSettings, WorkerPool
from core.store.runs import RunStore


class SlowLoggingExecutor:
    def __init__(self, path: str) -> None:
        self.path = path

    def _log(self, word: str, job: Job) -> None:
        with open(self.path, "a") as fh:
            at = job.scheduled_for.isoformat()
            fh.write(f"{word} {job.task_id} {at} {job.attempt} {os.getpid()}\n")
            fh.flush()

    async def execute(self, job: Job) -> ExecutionResult:
        self._log("start", job)
        await asyncio.sleep(0.3)
        self._log("end", job)
        return ExecutionResult(output="ok")


async def main(url: str, log_path: str, lookahead: float) -> None:
    db = Database(url)
    store = RunStore(db)
    clock = SystemClock()
    pool = WorkerPool(
        store=store,
        executors=ExecutorRegistry({"slow": SlowLoggingExecutor(log_path)}),
        clock=clock,
        settings=PoolSettings(concurrency=4, poll_seconds=0.2),
    )
    engine = SchedulerEngine(store=store, clock=clock, sink=pool, lookahead_seconds=lookahead)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await pool.start()
    await engine.start()
    print("ready", flush=True)
    await stop.wait()
    await engine.stop()
    await pool.stop()
    await db.dispose()


if __name__ == "__main__":
    lookahead = float(sys.argv[3]) if len(sys.argv) > 3 else LOOKAHEAD_SECONDS
    asyncio.run(main(sys.argv[1], sys.argv[2], lookahead))
