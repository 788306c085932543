"""``Scheduler``: the engine and its worker pool, wired and started together.

The composition root builds one of these per process::

    scheduler = Scheduler(db=db, clock=clock, executors=ExecutorRegistry({
        "notify": NotifyExecutor(notifier), "noop": NoopExecutor(),
    }))
    tasks = TaskService(store=store, clock=clock, listener=scheduler)
    async with scheduler:
        ...  # serve chat

Several processes may run one each on the same PostgreSQL database: fires are
idempotent and runs are leased, so each due run executes once. A
``ChangeWatcher`` feeds the engine the task changes committed by any process
(NOTIFY on PostgreSQL, a periodic rescan on both backends).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType

from core.db import Database
from core.executors.registry import ExecutorRegistry
from core.models import Run, RunEvent
from core.ports import Clock, Metrics, MissedFires, NullMetrics
from core.scheduler.changes import RESCAN_SECONDS, ChangeWatcher
from core.scheduler.engine import LOOKAHEAD_SECONDS, SchedulerEngine
from core.scheduler.outage import Probe
from core.scheduler.workers import PoolSettings, WorkerPool
from core.store.changes import ChangeFeed
from core.store.runs import FiredRun, RunStore


class Scheduler:
    """Fires tasks and runs them; a ``TaskListener`` for the task service."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        executors: ExecutorRegistry,
        settings: PoolSettings | None = None,
        lookahead_seconds: float = LOOKAHEAD_SECONDS,
        rescan_seconds: float = RESCAN_SECONDS,
        metrics: Metrics | None = None,
        missed: MissedFires | None = None,
    ) -> None:
        metrics = metrics or NullMetrics()
        self.runs = RunStore(db)
        # One cheap query a second while the database is away wakes every loop when it is back.
        self.probe = Probe(self.runs.ping)
        self.pool = WorkerPool(
            store=self.runs,
            executors=executors,
            clock=clock,
            settings=settings,
            metrics=metrics,
            probe=self.probe,
        )
        self.engine = SchedulerEngine(
            store=self.runs,
            clock=clock,
            sink=self.pool,
            lookahead_seconds=lookahead_seconds,
            metrics=metrics,
            probe=self.probe,
            missed=missed,
        )
        self.changes = ChangeWatcher(
            feed=ChangeFeed(db),
            target=self.engine,
            metrics=metrics,
            rescan_seconds=rescan_seconds,
            probe=self.probe,
        )

    async def start(self) -> None:
        """Recover crashed runs, start the workers, then rebuild and start the engine.

        The change watcher takes its mark before the engine loads its tasks, so a
        change committed in between is read again rather than missed.
        """
        await self.pool.start()
        await self.changes.prime()
        await self.engine.start()
        await self.changes.start()

    async def stop(self) -> None:
        """Stop firing, then let running executions finish (bounded) and stop the workers."""
        await self.changes.stop()
        await self.engine.stop()
        await self.pool.stop()
        await self.probe.close()

    async def __aenter__(self) -> Scheduler:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- TaskListener and commands -------------------------------------------

    async def task_changed(self, task_id: int) -> None:
        """Reschedule a task after the task service changed it."""
        await self.engine.task_changed(task_id)

    async def task_created(self, task_id: int, next_fire_at: datetime | None) -> None:
        """Schedule a task the task service has just created (no read-back)."""
        await self.engine.task_created(task_id, next_fire_at)

    async def tasks_changed(self, task_ids: Sequence[int]) -> None:
        """Reschedule many tasks with one read (a burst of fired reminders marked done)."""
        await self.engine.tasks_changed(task_ids)

    async def run_now(self, task_id: int) -> FiredRun:
        """Run a task now, outside its schedule (trigger ``manual``)."""
        return await self.engine.run_now(task_id)

    async def run_at(self, task_id: int, when: datetime) -> FiredRun:
        """One extra run at ``when`` (a snooze); the schedule is untouched."""
        return await self.engine.run_at(task_id, when)

    async def cancel(self, run_id: int) -> bool:
        """Cancel a pending run; ``False`` if it already started or ended."""
        return await self.engine.cancel(run_id)

    async def emit(self, event: str) -> list[FiredRun]:
        """Fire the tasks whose schedule waits for ``event``."""
        return await self.engine.emit(event)

    async def history(self, task_id: int, *, limit: int = 50) -> list[Run]:
        """A task's runs, newest first (one row per attempt)."""
        return await self.runs.runs_for(task_id, limit=limit)

    async def events(self, run_id: int) -> list[RunEvent]:
        """A run's timestamped status transitions."""
        return await self.runs.events_for(run_id)
