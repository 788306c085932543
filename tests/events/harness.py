"""A running scheduler harness with the event layer on it, and an executor that keeps jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from scheduler.harness import Harness, RecordingExecutor, running
from scheduler.helpers import add_task

from core.clock import ManualClock
from core.db import Database
from core.events.layer import EventLayer
from core.jobs import Job
from core.ports import ExecutionResult


@dataclass
class JobKeeper(RecordingExecutor):
    """A recording executor that also keeps each job's trigger and event payload."""

    jobs: list[Job] = field(default_factory=list)

    async def execute(self, job: Job) -> ExecutionResult:
        self.jobs.append(job)
        return await RecordingExecutor.execute(self, job)

    def events_of(self, task_id: int) -> list[Any]:
        """The payloads the task's jobs got, as plain dicts (``Job.event`` may be read-only)."""
        return [_plain(j.event) for j in self.jobs if j.task_id == task_id]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class Evented:
    harness: Harness
    layer: EventLayer
    keeper: JobKeeper


@asynccontextmanager
async def with_events(db: Database, clock: ManualClock) -> AsyncIterator[Evented]:
    keeper = JobKeeper()
    async with running(db, clock, executor=keeper) as harness:
        layer = EventLayer(db=db, clock=clock, pool=harness.pool, rescan_seconds=0.2)
        await layer.start()
        try:
            yield Evented(harness, layer, keeper)
        finally:
            await layer.stop()


def on_event(name: str, *more: dict[str, Any]) -> dict[str, Any]:
    """A schedule that listens for ``name`` (mixed with ``more`` parts when given)."""
    part = {"kind": "event", "event": name, "timezone": "UTC"}
    if not more:
        return part
    return {"kind": "mixed", "timezone": "UTC", "parts": [part, *more]}


async def subscriber(db: Database, event: str | None, **fields: Any) -> int:
    """A job in the test workspace that records its runs, waiting for ``event`` (if any)."""
    from core.enums import Platform
    from core.store import SqlStore

    ws = await SqlStore(db).ensure_workspace(Platform.CONSOLE, "W1")
    assert ws.id is not None
    fields.setdefault("action", {"type": "record"})
    schedule = fields.pop("schedule", None) or (on_event(event) if event else None)
    return await add_task(
        db, ws.id, schedule=schedule, next_fire_at=fields.pop("next_fire_at", None), **fields
    )
