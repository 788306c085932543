"""Running and snoozing tasks on a member's behalf: permission checked, audited.

The conversation never calls the scheduler directly: a viewer cannot run or
snooze, and every manual run and snooze leaves an audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.enums import TaskStatus
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import Member, TaskPublic
from core.ports import Clock
from core.services.audit import record_action
from core.services.members import may_change_tasks
from core.store import SqlStore


class Runner(Protocol):
    """The scheduler operations used here (``core.scheduler.Scheduler``)."""

    async def run_now(self, task_id: int) -> object: ...

    async def run_at(self, task_id: int, when: datetime) -> object: ...


class RunService:
    """Run a task now, or once more later (a snooze)."""

    def __init__(self, *, store: SqlStore, clock: Clock, runner: Runner | None) -> None:
        self._store = store
        self._clock = clock
        self._runner = runner

    async def run_now(self, task_id: int, *, actor: Member) -> TaskPublic:
        task = await self._checked(task_id, actor, "run")
        assert self._runner is not None
        await self._runner.run_now(task.id)
        await record_action(
            self._store, self._clock, actor, "task.run", task_id=task.id, details={}
        )
        return task

    async def snooze(self, task_id: int, when: datetime, *, actor: Member) -> TaskPublic:
        """One extra fire at ``when``; the task's own schedule is untouched."""
        task = await self._checked(task_id, actor, "snooze")
        if when <= self._clock.now():
            raise InvalidInput("That time has already passed.", hint="Snooze to a later time.")
        assert self._runner is not None
        await self._runner.run_at(task.id, when)
        await record_action(
            self._store,
            self._clock,
            actor,
            "task.snoozed",
            task_id=task.id,
            details={"until": when.isoformat()},
        )
        return task

    async def _checked(self, task_id: int, actor: Member, verb: str) -> TaskPublic:
        if not may_change_tasks(actor):
            raise PermissionDenied(
                f"Viewers cannot {verb} tasks.",
                hint="Ask a workspace admin to give you the member role.",
            )
        if self._runner is None:
            raise InvalidInput(f"I can't {verb} tasks here: the scheduler is not running.")
        task = await self._store.get_task(task_id, workspace_id=actor.workspace_id)
        if task.status == TaskStatus.DELETED:
            raise NotFound(
                f"Task #{task_id} was deleted.",
                hint=f"Say 'restore #{task_id}' first if you want it back.",
            )
        return task
