"""Checking a plan against the workspace's rules, and turning an approved one into a workflow.

Safeguards, all enforced here whatever the planner proposed: the plan's size and
depth (``core.planning.plan``), every step's action through the ``ActionChecker``
(a requester who may not create shell or SQL jobs gets no such step; an action
this installation cannot run is refused), and at most ``tasks_per_hour`` tasks
created by plans per workspace per hour — checked when a plan is shown, and again
inside the transaction that creates it, under a per-workspace lock, so that two
approvals at once cannot both pass. Every task a plan creates says so in its
description and has an ``ai.planned`` audit event naming the goal and planner.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from core.workflows.service import WorkflowService

#: The audit action of every task a plan created.
PLANNED = "ai.planned"
#: ``SqlStore.lock_workspace`` purpose: plans being created in a workspace, one at a time.
PLAN_LOCK = 0x504C414E  # "PLAN"


class HourlyCap:
    """At most ``tasks_per_hour`` tasks created by plans per workspace per hour."""

    def __init__(self, *, store: SqlStore, clock: Clock, tasks_per_hour: int = 20) -> None:
        self._store = store
        self._clock = clock
        self.tasks_per_hour = tasks_per_hour

    async def check(self, plan: Plan, *, workspace_id: int) -> None:
        """Raise ``PermissionDenied`` when ``plan`` would go over the cap."""
        since = self._clock.now() - timedelta(hours=1)
        used = await self._store.audit_count_since(
            workspace_id=workspace_id, action=PLANNED, since=since
        )
        if used + len(plan.steps) > self.tasks_per_hour:
            raise PermissionDenied(
                f"Plans may create at most {self.tasks_per_hour} tasks per hour in this "
                f"workspace; {used} were created in the last hour and this plan has "
                f"{len(plan.steps)}.",
                hint="Try again later, or ask an admin to raise KAIROS_LLM_PLAN_TASKS_PER_HOUR.",
            )


@dataclass(frozen=True, slots=True)
class Carried:
    """What an approved plan became: a workflow, its steps (tasks) and the run started."""

    workflow: str
    tasks: list[TaskPublic]
    run_id: int


class PlanSink(Protocol):
    """Where an approved plan goes (``WorkflowPlanSink``)."""

    async def create(self, plan: Plan, *, actor: Member, language: str = "en") -> Carried: ...


class WorkflowPlanSink:
    """A named workflow with one step (task) per plan step and the plan's edges, then a run.

    Every task says in its description that AI planned it and gets an ``ai.planned``
    audit event; the workflow engine runs the steps (first steps now, the rest as
    their prerequisites finish, under the usual trigger rules).
    """

    def __init__(
        self,
        *,
        tasks: TaskService,
        workflows: WorkflowService,
        store: SqlStore,
        clock: Clock,
        cap: HourlyCap,
    ) -> None:
        self._tasks = tasks
        self._workflows = workflows
        self._store = store
        self._clock = clock
        self._cap = cap

    async def create(self, plan: Plan, *, actor: Member, language: str = "en") -> Carried:
        """All or nothing: the workflow, its tasks, their edges, the audit events and the
        run are written in one transaction; its runs start once it has committed.

        The hourly cap is counted again inside it, after taking the workspace's plan
        lock: a plan approved at the same moment waits, then counts this one's tasks.
        ``language``: the approver's, kept with every task (its later posts).
        """
        async with self._store.transaction():
            await self._store.lock_workspace(actor.workspace_id, purpose=PLAN_LOCK)
            await self._cap.check(plan, workspace_id=actor.workspace_id)
            return await self._create(plan, actor=actor, language=language)

    async def _create(self, plan: Plan, *, actor: Member, language: str) -> Carried:
        name = await self._free_name(plan.goal or "AI plan", workspace_id=actor.workspace_id)
        workflow = await self._workflows.create(name, actor=actor)
        assert workflow.id is not None
        ids: dict[str, int] = {}
        created: list[TaskPublic] = []
        by = ", ".join((plan.planner or "Claude", *plan.notes))
        for step in ordered(plan.steps):
            data: dict[str, Any] = {
                "title": step.title,
                "kind": TaskKind.JOB if step.action else TaskKind.TASK,
                "action": dict(step.action) if step.action else None,
                "depends_on": [ids[key] for key in step.after],
                "description": f"Planned by AI ({by}) for: {plan.goal}",
                "language": language,
            }
            if step.channel:
                data["channel_ref"] = step.channel
            task = await self._tasks.create(data, actor=actor)
            await self._store.set_step(task.id, workflow_id=workflow.id)
            await self._store.record_audit(
                workspace_id=task.workspace_id,
                action=PLANNED,
                at=self._clock.now(),
                actor_id=actor.id,
                task_id=task.id,
                details={
                    "goal": plan.goal,
                    "step": step.key,
                    "planner": plan.planner,
                    "notes": list(plan.notes),
                    "workflow": workflow.name,
                },
            )
            ids[step.key] = task.id
            created.append(task)
        run_id = await self._workflows.start(workflow.name, actor=actor)
        return Carried(workflow=workflow.name, tasks=created, run_id=run_id)

    async def _free_name(self, goal: str, *, workspace_id: int) -> str:
        """``goal``, or ``goal (2)``, ``goal (3)``… when a workflow has that name already."""
        base = " ".join(goal.split())[:80]
        name, n = base, 1
        while await self._store.find_workflow(workspace_id, name) is not None:
            n += 1
            name = f"{base} ({n})"
        return name


class PlanService:
    """Checks plans and creates approved ones (``dry_run``: checks only)."""

    def __init__(
        self,
        *,
        checker: ActionChecker,
        sink: PlanSink,
        cap: HourlyCap,
    ) -> None:
        self._checker = checker
        self._sink = sink
        self._cap = cap

    async def check(self, plan: Plan, *, actor: Member) -> None:
        """Raise the first reason this plan may not be carried out for ``actor``."""
        check_plan(plan)
        for step in plan.steps:
            if step.action:
                await self._checker.checked(step.action, actor=actor)
        await self._cap.check(plan, workspace_id=actor.workspace_id)

    async def approve(
        self, plan: Plan, *, actor: Member, dry_run: bool = False, language: str = "en"
    ) -> Carried | None:
        """Check again (the world may have changed since the plan was shown), then create.

        ``None`` for a dry run: every check passed and nothing was created.
        """
        await self.check(plan, actor=actor)
        if dry_run:
            return None
        return await self._sink.create(plan, actor=actor, language=language)
