"""Workflows as data: names, their steps and edges, their passes' rows (a ``SqlStore`` part)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from core.models import Run, Task, TaskDependency
from core.models_workflows import Workflow, WorkflowRun
from core.store.base import StoreBase
from core.store.release import load_graph
from core.workflows.graph import Graph


class WorkflowStore(StoreBase):
    """Workflow rows, step membership, trigger rules and edges."""

    async def insert_workflow(self, workflow: Workflow) -> Workflow:
        async with self._session() as session:
            session.add(workflow)
            await session.flush()
            await session.refresh(workflow)
            return workflow

    async def find_workflow(self, workspace_id: int, name: str) -> Workflow | None:
        """The workflow of that name (case does not matter)."""
        async with self._session() as session:
            rows = await session.execute(
                select(Workflow).where(
                    col(Workflow.workspace_id) == workspace_id,
                    sa.func.lower(col(Workflow.name)) == name.strip().lower(),
                )
            )
            return rows.scalars().first()

    async def get_workflow(self, workflow_id: int) -> Workflow | None:
        async with self._session() as session:
            return await session.get(Workflow, workflow_id)

    async def list_workflows(self, workspace_id: int) -> list[Workflow]:
        async with self._session() as session:
            rows = await session.execute(
                select(Workflow)
                .where(col(Workflow.workspace_id) == workspace_id)
                .order_by(col(Workflow.name))
            )
            return list(rows.scalars())

    async def set_step(
        self, task_id: int, *, workflow_id: int | None, rule: str | None = None
    ) -> None:
        """Make a task a step of a workflow (or of none), optionally with its trigger rule."""
        values: dict[str, object] = {"workflow_id": workflow_id}
        if rule is not None:
            values["trigger_rule"] = rule
        async with self._session() as session:
            await session.execute(sa.update(Task).where(col(Task.id) == task_id).values(**values))

    async def workflow_of(self, task_ids: list[int]) -> dict[int, int | None]:
        """``task id → workflow id`` (None: in no workflow) of the given tasks."""
        async with self._session() as session:
            rows = await session.execute(
                sa.select(col(Task.id), col(Task.workflow_id)).where(col(Task.id).in_(task_ids))
            )
            return {int(r[0]): r[1] for r in rows}

    async def set_rule(self, task_id: int, rule: str) -> None:
        async with self._session() as session:
            await session.execute(
                sa.update(Task).where(col(Task.id) == task_id).values(trigger_rule=rule)
            )

    async def add_edge(self, predecessor_id: int, successor_id: int) -> bool:
        """Store ``predecessor → successor``; ``False`` when it was there already."""
        async with self._session() as session:
            stmt = (
                self._insert(SQLModel.metadata.tables["task_dependencies"])
                .values(predecessor_id=predecessor_id, successor_id=successor_id)
                .on_conflict_do_nothing()
            )
            result = await session.execute(stmt)
            return bool(getattr(result, "rowcount", 0))

    async def add_steps(
        self, workflow_id: int, task_ids: list[int], edges: list[tuple[int, int]]
    ) -> None:
        """Many steps and edges at once (templates, big generated graphs)."""
        async with self._session() as session:
            for start in range(0, len(task_ids), 5000):
                chunk = task_ids[start : start + 5000]
                await session.execute(
                    sa.update(Task).where(col(Task.id).in_(chunk)).values(workflow_id=workflow_id)
                )
            if edges:
                await session.execute(
                    self._insert(
                        SQLModel.metadata.tables["task_dependencies"]
                    ).on_conflict_do_nothing(),
                    [{"predecessor_id": p, "successor_id": s} for p, s in edges],
                )

    async def remove_edge(self, predecessor_id: int, successor_id: int) -> bool:
        async with self._session() as session:
            result = await session.execute(
                sa.delete(TaskDependency).where(
                    col(TaskDependency.predecessor_id) == predecessor_id,
                    col(TaskDependency.successor_id) == successor_id,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def workflow_graph(self, workflow_id: int) -> Graph:
        async with self._session() as session:
            return await load_graph(await session.connection(), workflow_id, None)

    async def latest_pass(self, workflow_id: int) -> WorkflowRun | None:
        async with self._session() as session:
            rows = await session.execute(
                select(WorkflowRun)
                .where(col(WorkflowRun.workflow_id) == workflow_id)
                .order_by(col(WorkflowRun.id).desc())
                .limit(1)
            )
            return rows.scalars().first()

    async def passes(self, workflow_id: int, *, limit: int = 20) -> list[WorkflowRun]:
        async with self._session() as session:
            rows = await session.execute(
                select(WorkflowRun)
                .where(col(WorkflowRun.workflow_id) == workflow_id)
                .order_by(col(WorkflowRun.id).desc())
                .limit(limit)
            )
            return list(rows.scalars())

    async def latest_pass_of_task(self, task_id: int) -> int | None:
        """The pass of the task's newest run that belongs to one."""
        async with self._session() as session:
            rows = await session.execute(
                sa.select(col(Run.workflow_run_id))
                .where(col(Run.task_id) == task_id, col(Run.workflow_run_id).is_not(None))
                .order_by(col(Run.id).desc())
                .limit(1)
            )
            value = rows.scalar()
            return int(value) if value is not None else None

    async def unannounced_passes(self) -> list[WorkflowRun]:
        """Passes that ended and whose owner was not told yet."""
        async with self._session() as session:
            rows = await session.execute(
                select(WorkflowRun)
                .where(
                    col(WorkflowRun.finished_at).is_not(None),
                    col(WorkflowRun.notified_at).is_(None),
                )
                .order_by(col(WorkflowRun.id))
            )
            return list(rows.scalars())

    async def mark_announced(self, pass_id: int, finished_at: datetime, *, now: datetime) -> bool:
        """Claim telling the owner about one ending (``False``: someone else did, or it moved)."""
        async with self._session() as session:
            result = await session.execute(
                sa.update(WorkflowRun)
                .where(
                    col(WorkflowRun.id) == pass_id,
                    col(WorkflowRun.notified_at).is_(None),
                    col(WorkflowRun.finished_at) == finished_at,
                )
                .values(notified_at=now)
            )
            return bool(getattr(result, "rowcount", 0))
