"""A real Kairos node for the cross-process tests.

``python node_proc.py URL LOG [--no-engine] [--lookahead SECONDS]``

Wired like ``kairos run``: a ``Scheduler`` (engine, workers, change watcher) on
the system clock, and a ``TaskService`` whose listener is that scheduler. With
``--no-engine`` the scheduler is built but never started, like ``kairos tasks
add`` beside a running server. Reminders are "posted" by appending
``start TASK SCHEDULED_FOR ATTEMPT PID`` (and ``end …``) lines to LOG.

Commands on stdin, one per line, each answered by one line on stdout:
``add ISO_TIME`` → ``added ID``; ``reschedule ID ISO_TIME``, ``pause ID``,
``resume ID``, ``delete ID`` → ``ok``; ``quit``. It prints ``ready`` once started;
SIGTERM stops it gracefully.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from core.clock import SystemClock
from core.db import Database
from core.enums import Platform, Role, TaskKind
from core.executors import ExecutorRegistry
from core.jobs import Job
from core.ports import ExecutionResult
from core.scheduler import PoolSettings, Scheduler
from core.services.tasks import TaskService
from core.store import SqlStore


class LoggingNotifier:
    """The ``notify`` executor: records each delivery in the log file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _log(self, word: str, job: Job) -> None:
        with open(self.path, "a") as fh:
            at = job.scheduled_for.isoformat()
            fh.write(f"{word} {job.task_id} {at} {job.attempt} {os.getpid()}\n")

    async def execute(self, job: Job) -> ExecutionResult:
        self._log("start", job)
        self._log("end", job)
        return ExecutionResult(output="ok")


def _once(at: str) -> dict[str, Any]:
    return {"kind": "once", "at": at, "timezone": "UTC"}


async def main(url: str, log_path: str, engine: bool, lookahead: float) -> None:
    db = Database(url)
    store = SqlStore(db)
    clock = SystemClock()
    scheduler = Scheduler(
        db=db,
        clock=clock,
        executors=ExecutorRegistry({"notify": LoggingNotifier(log_path)}),
        settings=PoolSettings(concurrency=8, poll_seconds=0.2),
        lookahead_seconds=lookahead,
    )
    service = TaskService(store=store, clock=clock, listener=scheduler)
    workspace = await store.ensure_workspace(Platform.CONSOLE, "procs")
    assert workspace.id is not None
    actor = await store.ensure_member(workspace.id, "tester", role=Role.ADMIN)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if engine:
        await scheduler.start()
    print("ready", flush=True)

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def commands() -> None:
        while not stop.is_set():
            line = (await reader.readline()).decode().split()
            if not line or line[0] == "quit":
                stop.set()
                return
            word, args = line[0], line[1:]
            if word == "add":
                task = await service.create(
                    {"kind": TaskKind.REMINDER, "title": "r", "schedule": _once(args[0])},
                    actor=actor,
                )
                print(f"added {task.id}", flush=True)
                continue
            task_id = int(args[0])
            if word == "reschedule":
                await service.update(task_id, {"schedule": _once(args[1])}, actor=actor)
            elif word == "pause":
                await service.pause(task_id, actor=actor)
            elif word == "resume":
                await service.resume(task_id, actor=actor)
            elif word == "delete":
                await service.delete(task_id, actor=actor)
            print("ok", flush=True)

    reading = asyncio.create_task(commands(), name="node-commands")
    await stop.wait()
    reading.cancel()
    if engine:
        await scheduler.stop()
    await db.dispose()


if __name__ == "__main__":
    flags = sys.argv[3:]
    ahead = float(flags[flags.index("--lookahead") + 1]) if "--lookahead" in flags else 2.0
    asyncio.run(main(sys.argv[1], sys.argv[2], "--no-engine" not in flags, ahead))
