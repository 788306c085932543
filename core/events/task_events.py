"""Task events: a task completed or failed, or failed N times in a row.

The worker pool reports each durable outcome (``WorkerPool.use_events``); only
outcomes some live task listens for become events, so an unwatched system pays
one set lookup per run. The watched names are re-read every ``refresh_seconds``.
Names: ``task_completed:<id>``, ``task_failed:<id>``, ``task_failed_streak:<id>:<n>``.
A task a person marks done is ``task_completed`` too (``TaskChangeEvents``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime

from core.db import Database
from core.enums import RunStatus
from core.events.delivery import EventBus
from core.events.model import EventIn, SourceKind
from core.ports import Clock, CreationListener, TaskListener
from core.store.events import done_at, failure_streak, listened_names

log = logging.getLogger(__name__)


class TaskEvents:
    """Turns outcomes of watched tasks into events on the bus."""

    def __init__(
        self, *, db: Database, bus: EventBus, clock: Clock, refresh_seconds: float = 1.0
    ) -> None:
        self._db = db
        self._bus = bus
        self._clock = clock
        self._refresh = refresh_seconds
        self._watched: set[str] = set()
        self._loaded = 0.0
        self._pending: set[asyncio.Task[None]] = set()

    def finished(self, run_id: int, task_id: int, status: RunStatus) -> None:
        """Called by the workers once an outcome is durable (must not block)."""
        if status not in (RunStatus.COMPLETED, RunStatus.FAILED):
            return
        task = asyncio.create_task(self._emit(run_id, task_id, status), name="kairos-task-event")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _names(self) -> set[str]:
        if time.monotonic() - self._loaded > self._refresh:
            self._watched = await listened_names(self._db, "task_")
            self._loaded = time.monotonic()
        return self._watched

    async def _emit(self, run_id: int, task_id: int, status: RunStatus) -> None:
        try:
            names = await self._names()
            outcome = "task_completed" if status is RunStatus.COMPLETED else "task_failed"
            wanted = [f"{outcome}:{task_id}"]
            if status is RunStatus.FAILED:
                prefix = f"task_failed_streak:{task_id}:"
                for name in names:
                    count = name[len(prefix) :]
                    if name.startswith(prefix) and count.isdigit():
                        streak = await failure_streak(self._db, task_id, limit=int(count))
                        if streak == int(count):
                            wanted.append(name)
            payload = {"task_id": task_id, "run_id": run_id, "status": status.value}
            for name in wanted:
                if name in names:
                    await self._bus.record(
                        EventIn(SourceKind.TASK, name, f"run:{run_id}", payload, self._clock.now())
                    )
        except Exception as exc:  # a lost task event is logged; the run itself is recorded
            log.warning("events: task event for run %s not recorded: %s", run_id, exc)

    async def marked_done(self, task_id: int) -> None:
        """A person marked the task done (not a run): ``task_completed`` if it is watched."""
        name = f"task_completed:{task_id}"
        try:
            if name not in await self._names():
                return
            at = await done_at(self._db, task_id)
            if at is not None:
                payload = {"task_id": task_id, "status": "done", "completed_at": at.isoformat()}
                await self._bus.record(
                    EventIn(
                        SourceKind.TASK, name, f"done:{at.isoformat()}", payload, self._clock.now()
                    )
                )
        except Exception as exc:
            log.warning("events: task event for task %s not recorded: %s", task_id, exc)

    async def drain(self) -> None:
        """Wait for the events being recorded (at shutdown, in tests)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


class TaskChangeEvents:
    """A ``TaskListener`` in front of the engine: also records ``task_completed`` when a
    watched task is marked done (a reopen and a second "done" is a second event)."""

    def __init__(self, inner: TaskListener, events: TaskEvents) -> None:
        self._inner = inner
        self._events = events

    async def task_changed(self, task_id: int) -> None:
        await self._inner.task_changed(task_id)
        await self._events.marked_done(task_id)

    async def task_created(self, task_id: int, next_fire_at: datetime | None) -> None:
        if isinstance(self._inner, CreationListener):
            await self._inner.task_created(task_id, next_fire_at)
        else:
            await self._inner.task_changed(task_id)

    async def tasks_changed(self, task_ids: Sequence[int]) -> None:
        if isinstance(self._inner, CreationListener):
            await self._inner.tasks_changed(task_ids)
        else:
            for task_id in task_ids:
                await self._inner.task_changed(task_id)
        for task_id in task_ids:
            await self._events.marked_done(task_id)
