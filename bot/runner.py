"""The scheduler operations the conversation needs, over the engine and run store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.enums import RunTrigger
from core.errors import Conflict
from core.models import Run
from core.ports import Clock
from core.scheduler.engine import SchedulerEngine
from core.store.runs import FiredRun, NewRun, RunStore


class SchedulerRunner:
    """Run now, run once more later (snooze), and read recent runs."""

    def __init__(self, *, engine: SchedulerEngine, runs: RunStore, clock: Clock) -> None:
        self._engine = engine
        self._runs = runs
        self._clock = clock

    async def run_now(self, task_id: int) -> FiredRun:
        return await self._engine.run_now(task_id)

    async def run_at(self, task_id: int, when: datetime) -> FiredRun:
        """One extra run at ``when`` (a snooze); the task's own schedule is untouched.

        The run row is durable at once; workers claim it from the database
        when it is due, so a restart in between loses nothing.
        """
        fired = await self._runs.fire_many(
            [NewRun(task_id, when, RunTrigger.MANUAL, not_before=when)], now=self._clock.now()
        )
        if not fired:
            raise Conflict(f"Task {task_id} already has a run at that moment; pick another time.")
        return fired[0]

    async def recent_runs(self, task_id: int, *, limit: int = 10) -> Sequence[Run]:
        return await self._runs.runs_for(task_id, limit=limit)
