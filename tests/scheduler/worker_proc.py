"""A real worker-pool process for the heartbeat and delivery tests.

``python worker_proc.py URL LOG LEASE_SECONDS``: claims due runs from the
database (no engine) with the given lease. Executors:

* ``slow`` — logs ``start``/``end`` lines to LOG around ``action.seconds`` of sleep;
* ``notify`` — the real ``NotifyExecutor`` + ``ChatNotifier`` posting through a
  console adapter that logs ``post`` lines to LOG; on attempt 1 it then hangs
  (after the post returned), so a test can ``kill -9`` the process right after a
  delivery and before the outcome.

Prints ``ready`` once started; SIGTERM stops it gracefully.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from bot.notify import ChatNotifier
from core.clock import SystemClock
from core.db import Database
from core.enums import Platform
from core.executors import ExecutorRegistry, NotifyExecutor
from core.jobs import Job
from core.messages import Reply
from core.ports import ExecutionResult
from core.scheduler.workers import PoolSettings, WorkerPool
from core.services.conversation import ConversationMemory
from core.store import SqlStore
from core.store.runs import RunStore


def _log(path: str, *words: object) -> None:
    with open(path, "a") as fh:
        fh.write(" ".join(str(w) for w in words) + f" {os.getpid()}\n")


class SlowExecutor:
    def __init__(self, path: str) -> None:
        self.path = path

    async def execute(self, job: Job) -> ExecutionResult:
        _log(self.path, "start", job.task_id, job.attempt)
        await asyncio.sleep(float(job.action.get("seconds", 1)))
        _log(self.path, "end", job.task_id, job.attempt)
        return ExecutionResult(output="ok")


class LoggingChat:
    """Posts by writing a line; hangs after the first attempt's post (to be killed)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.posts = 0

    async def send(self, reply: Reply) -> str | None:
        self.posts += 1
        _log(self.path, "post", reply.task_id, self.posts)
        return f"msg-{os.getpid()}-{self.posts}"


class HangAfterPost:
    """Wraps the notify executor: attempt 1 hangs once the post is done."""

    def __init__(self, inner: NotifyExecutor, path: str) -> None:
        self.inner = inner
        self.path = path

    async def execute(self, job: Job) -> ExecutionResult:
        result = await self.inner.execute(job)
        _log(self.path, "done", job.task_id, job.attempt, job.retry_of_crash, result.output)
        if job.attempt == 1:
            await asyncio.sleep(3600)
        return result


async def main(url: str, log_path: str, lease: float) -> None:
    db = Database(url)
    runs = RunStore(db)
    chat = LoggingChat(log_path)
    store = SqlStore(db)
    clock = SystemClock()
    notifier = ChatNotifier(
        store=store,
        adapters={Platform.CONSOLE: chat},
        context=ConversationMemory(store=store, clock=clock),
        clock=clock,
    )
    pool = WorkerPool(
        store=runs,
        executors=ExecutorRegistry(
            {
                "slow": SlowExecutor(log_path),
                "notify": HangAfterPost(NotifyExecutor(notifier), log_path),
            }
        ),
        clock=SystemClock(),
        settings=PoolSettings(lease_seconds=lease, poll_seconds=0.1, drain_seconds=1),
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await pool.start()
    print("ready", flush=True)
    await stop.wait()
    await pool.stop()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
