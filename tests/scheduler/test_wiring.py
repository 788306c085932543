"""The composition as the app builds it: TaskService → Scheduler → NotifyExecutor → Notifier."""

from __future__ import annotations

from datetime import timedelta

from core.clock import ManualClock
from core.db import Database
from core.enums import RunStatus, RunTrigger, TaskKind
from core.executors import ExecutorRegistry, NoopExecutor, NotifyExecutor
from core.models import Member
from core.scheduler import Scheduler
from core.services.tasks import TaskService
from core.store import SqlStore

from .harness import quiet, wait_for
from .test_executors import FakeNotifier


async def test_a_reminder_created_through_the_service_is_delivered(
    database: Database, store: SqlStore, clock: ManualClock, member: Member
) -> None:
    notifier = FakeNotifier()
    scheduler = Scheduler(
        db=database,
        clock=clock,
        executors=ExecutorRegistry({"notify": NotifyExecutor(notifier), "noop": NoopExecutor()}),
    )
    service = TaskService(store=store, clock=clock, listener=scheduler)
    async with scheduler:
        at = clock.now() + timedelta(minutes=10)
        task = await service.create(
            {
                "kind": TaskKind.REMINDER,
                "title": "stand-up",
                "schedule": {"kind": "once", "at": at.isoformat(), "timezone": "UTC"},
            },
            actor=member,
        )
        clock.set(at - timedelta(seconds=30))
        await quiet(scheduler.engine, clock, scheduler.pool)
        assert notifier.sent == []
        clock.set(at)
        await wait_for(lambda: _done(scheduler, task.id))
        [run] = await scheduler.history(task.id)
        assert (run.status, run.trigger, run.scheduled_for) == (
            RunStatus.COMPLETED,
            RunTrigger.SCHEDULE,
            at,
        )
        assert run.output == "notified (msg-1)"
        assert notifier.sent == [(task.id, run.id)]
        assert [e.status for e in await scheduler.events(run.id or 0)] == ["running", "completed"]

        # Deleting a task drops it from the engine: nothing fires later.
        later = await service.create(
            {
                "kind": TaskKind.REMINDER,
                "title": "later",
                "schedule": {
                    "kind": "once",
                    "at": (at + timedelta(hours=1)).isoformat(),
                    "timezone": "UTC",
                },
            },
            actor=member,
        )
        await service.delete(later.id, actor=member)
        clock.set(at + timedelta(hours=2))
        await quiet(scheduler.engine, clock, scheduler.pool)
        assert await scheduler.history(later.id) == []


async def _done(scheduler: Scheduler, task_id: int) -> bool | None:
    runs = await scheduler.history(task_id)
    return True if runs and runs[0].status == RunStatus.COMPLETED else None
