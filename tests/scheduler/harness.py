"""A running engine + worker pool on a ManualClock, and an executor that records calls."""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, cast

from core.clock import ManualClock
from core.db import Database
from core.enums import Role, RunStatus
from core.executors import ExecutorRegistry, NoopExecutor
from core.jobs import Job
from core.models import Member, Run
from core.ports import Clock, ExecutionResult, MissedFires
from core.scheduler.engine import SchedulerEngine
from core.scheduler.workers import PoolSettings, WorkerPool
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.runs import RunStore

T = TypeVar("T")


@dataclass
class RecordingExecutor:
    """Records ``(task_id, scheduled_for, attempt)`` per execution; fails/sleeps on demand."""

    calls: list[tuple[int, datetime, int]] = field(default_factory=list)
    fail_tasks: set[int] = field(default_factory=set)
    sleep_seconds: float = 0.0

    async def execute(self, job: Job) -> ExecutionResult:
        self.calls.append((job.task_id, job.scheduled_for, job.attempt))
        if self.sleep_seconds:
            await asyncio.sleep(self.sleep_seconds)
        if job.task_id in self.fail_tasks:
            raise RuntimeError(f"task {job.task_id} exploded")
        return ExecutionResult(output=f"ran {job.task_id}#{job.attempt}")


class RecordingMetrics:
    """A ``core.ports.Metrics`` that keeps fires and database errors."""

    def __init__(self) -> None:
        self.fires: list[int] = []
        self.errors: list[str] = []

    def fired(self, count: int) -> None:
        self.fires.append(count)

    def db_error(self, component: str) -> None:
        self.errors.append(component)

    def run_started(self, executor: str, lateness_seconds: float) -> None: ...

    def run_finished(self, executor: str, status: str, duration_seconds: float) -> None: ...

    def queue_depth(self, depth: int) -> None: ...

    def chat_call(self, platform: str, method: str, outcome: str) -> None: ...


@dataclass
class Harness:
    db: Database
    clock: ManualClock
    store: RunStore
    engine: SchedulerEngine
    pool: WorkerPool
    executor: RecordingExecutor

    async def advance(self, seconds: float) -> None:
        """Move the clock, then wait until the engine has handled everything due by then."""
        self.clock.advance(seconds)
        await self.quiet()

    async def quiet(self) -> None:
        """Wait until the engine sleeps past the clock's now and the workers are idle."""
        await quiet(self.engine, self.clock, self.pool)

    async def pause(self, task_id: int) -> None:
        """Pause the task the one way Kairos pauses: ``TaskService.pause`` (audited)."""
        service, admin = await self._service(task_id)
        await service.pause(task_id, actor=admin)

    async def resume(self, task_id: int) -> None:
        service, admin = await self._service(task_id)
        await service.resume(task_id, actor=admin)

    async def _service(self, task_id: int) -> tuple[TaskService, Member]:
        store = SqlStore(self.db)
        task = await store.get_task(task_id)
        admin = await store.ensure_member(task.workspace_id, "UHARNESS", role=Role.ADMIN)
        return TaskService(store=store, clock=self.clock, listener=self.engine), admin

    async def runs(self, task_id: int) -> list[Run]:
        return sorted(
            await self.store.runs_for(task_id, limit=1000),
            key=lambda r: (r.scheduled_for, r.attempt),
        )

    async def settle(self, task_id: int, count: int, limit: float = 10.0) -> list[Run]:
        """Wait until ``task_id`` has ``count`` runs, all in a final status."""
        return await wait_for(lambda: self._settled(task_id, count), limit)

    async def _settled(self, task_id: int, count: int) -> list[Run] | None:
        runs = await self.runs(task_id)
        done = [r for r in runs if RunStatus(r.status).is_final]
        return runs if len(runs) == count and len(done) == count else None


async def wait_for(
    probe: Callable[[], Awaitable[T | bool | None] | T | bool | None],
    limit: float = 10.0,
    what: str = "",
) -> T:
    """Poll ``probe`` (sync or async; real time) until it returns something truthy
    (returned); fail after ``limit`` seconds. The one way tests wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return cast(T, value)
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {limit} s waiting for {what or probe}")
        await asyncio.sleep(0.02)


async def quiet(engine: SchedulerEngine, clock: Clock, pool: WorkerPool | None = None) -> None:
    """Wait until ``engine`` has handled everything due at ``clock``'s now (and ``pool``
    runs nothing): the condition "nothing more will happen" tests assert after."""

    def done() -> bool:
        return engine.idle_past(clock.now().timestamp()) and (pool is None or pool.busy == 0)

    await wait_for(done, what="the engine to go idle")


@asynccontextmanager
async def running(
    db: Database,
    clock: ManualClock,
    *,
    executor: RecordingExecutor | None = None,
    settings: PoolSettings | None = None,
    start_pool: bool = True,
    missed: MissedFires | None = None,
) -> AsyncIterator[Harness]:
    executor = executor or RecordingExecutor()
    store = RunStore(db)
    registry = ExecutorRegistry({"noop": NoopExecutor(), "record": executor})
    pool = WorkerPool(
        store=store,
        executors=registry,
        clock=clock,
        settings=settings or PoolSettings(concurrency=8, poll_seconds=1.0),
        rng=random.Random(7),
    )
    engine = SchedulerEngine(store=store, clock=clock, sink=pool, missed=missed)
    if start_pool:
        await pool.start()
    await engine.start()
    try:
        yield Harness(db, clock, store, engine, pool, executor)
    finally:
        await engine.stop()
        await pool.stop()
