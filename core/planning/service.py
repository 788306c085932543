"""Checking a plan against the workspace's rules, and turning an approved one into tasks.

Safeguards, all enforced here whatever the planner proposed: the plan's size and
depth (``core.planning.plan``), every step's action through the ``ActionChecker``
(a requester who may not create shell or SQL jobs gets no such step; an action
this installation cannot run is refused), and at most ``tasks_per_hour`` tasks
created by plans per workspace per hour. Every task a plan creates says so in its
description and has an ``ai.planned`` audit event naming the goal and planner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from core.enums import TaskKind
from core.errors import PermissionDenied
from core.models import Member, TaskPublic
from core.planning.plan import Plan, check_plan, ordered
from core.ports import Clock
from core.services.actions import ActionChecker
from core.services.tasks import TaskService
from core.store import SqlStore

#: The audit action of every task a plan created.
PLANNED = "ai.planned"


class PlanSink(Protocol):
    """Where an approved plan goes (``TaskPlanSink``; the workflow service can take its place)."""

    async def create(self, plan: Plan, *, actor: Member) -> list[TaskPublic]: ...


class Starter(Protocol):
    """Runs a task now (``core.scheduler.Scheduler``)."""

    async def run_now(self, task_id: int) -> object: ...


class TaskPlanSink:
    """One task per step, prerequisites as dependency edges; steps with none start now."""

    def __init__(
        self, *, tasks: TaskService, store: SqlStore, clock: Clock, starter: Starter | None = None
    ) -> None:
        self._tasks = tasks
        self._store = store
        self._clock = clock
        self._starter = starter

    async def create(self, plan: Plan, *, actor: Member) -> list[TaskPublic]:
        ids: dict[str, int] = {}
        created: list[TaskPublic] = []
        for step in ordered(plan.steps):
            data: dict[str, Any] = {
                "title": step.title,
                "kind": TaskKind.JOB if step.action else TaskKind.TASK,
                "action": dict(step.action) if step.action else None,
                "depends_on": [ids[key] for key in step.after],
                "description": f"Planned by AI ({plan.planner or 'Claude'}) for: {plan.goal}",
            }
            task = await self._tasks.create(data, actor=actor)
            await self._store.record_audit(
                workspace_id=task.workspace_id,
                action=PLANNED,
                at=self._clock.now(),
                actor_id=actor.id,
                task_id=task.id,
                details={"goal": plan.goal, "step": step.key, "planner": plan.planner},
            )
            ids[step.key] = task.id
            created.append(task)
        if self._starter is not None:
            for step, task in zip(ordered(plan.steps), created, strict=True):
                if not step.after and step.action:
                    await self._starter.run_now(task.id)
        return created


class PlanService:
    """Checks plans and creates approved ones (``dry_run``: checks only)."""

    def __init__(
        self,
        *,
        checker: ActionChecker,
        sink: PlanSink,
        store: SqlStore,
        clock: Clock,
        tasks_per_hour: int = 20,
    ) -> None:
        self._checker = checker
        self._sink = sink
        self._store = store
        self._clock = clock
        self.tasks_per_hour = tasks_per_hour

    async def check(self, plan: Plan, *, actor: Member) -> None:
        """Raise the first reason this plan may not be carried out for ``actor``."""
        check_plan(plan)
        for step in plan.steps:
            if step.action:
                await self._checker.checked(step.action, actor=actor)
        since = self._clock.now() - timedelta(hours=1)
        used = await self._store.audit_count_since(
            workspace_id=actor.workspace_id, action=PLANNED, since=since
        )
        if used + len(plan.steps) > self.tasks_per_hour:
            raise PermissionDenied(
                f"Plans may create at most {self.tasks_per_hour} tasks per hour in this "
                f"workspace; {used} were created in the last hour and this plan has "
                f"{len(plan.steps)}.",
                hint="Try again later, or ask an admin to raise KAIROS_LLM_PLAN_TASKS_PER_HOUR.",
            )

    async def approve(
        self, plan: Plan, *, actor: Member, dry_run: bool = False
    ) -> Sequence[TaskPublic]:
        """Check again (the world may have changed since the plan was shown), then create."""
        await self.check(plan, actor=actor)
        if dry_run:
            return []
        return await self._sink.create(plan, actor=actor)
