"""History read for the analytics: tasks and runs of a workspace as ``core.insight`` facts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from core.enums import RunStatus, TaskStatus
from core.insight.facts import RunFact, TaskFact
from core.models import Member, Run, Task, TaskAssignee, TaskDependency
from core.store.base import StoreBase

_ENDED = (RunStatus.COMPLETED.value, RunStatus.FAILED.value, RunStatus.RETRYING.value)


class InsightStore(StoreBase):
    """Read-only queries behind reports, stats, charts and estimates."""

    async def task_facts(
        self, workspace_id: int, *, since: datetime, channel: str | None = None
    ) -> list[TaskFact]:
        """Tasks created, due or completed since ``since``, and every task still open."""
        live = sa.or_(
            col(Task.created_at) >= since,
            col(Task.due) >= since,
            col(Task.completed_at) >= since,
            col(Task.status) == TaskStatus.OPEN.value,
        )
        stmt = sa.select(Task).where(
            col(Task.workspace_id) == workspace_id, col(Task.deleted_at).is_(None), live
        )
        if channel is not None:
            stmt = stmt.where(col(Task.channel_ref) == channel)
        async with self._session() as session:
            tasks = list((await session.scalars(stmt.order_by(col(Task.id)))).all())
            ids = [t.id for t in tasks]
            people: dict[int, list[str]] = defaultdict(list)
            first: dict[int, int] = {}
            for chunk in _chunks(ids):
                rows = await session.execute(
                    sa.select(col(TaskAssignee.task_id), col(Member.platform_user_id))
                    .join(Member, col(Member.id) == col(TaskAssignee.member_id))
                    .where(col(TaskAssignee.task_id).in_(chunk))
                    .order_by(col(Member.platform_user_id))
                )
                for task_id, user in rows:
                    people[task_id].append(user)
                deps = await session.execute(
                    sa.select(
                        col(TaskDependency.successor_id), sa.func.min(TaskDependency.predecessor_id)
                    )
                    .where(col(TaskDependency.successor_id).in_(chunk))
                    .group_by(col(TaskDependency.successor_id))
                )
                first.update({succ: pred for succ, pred in deps})
        return [
            TaskFact(
                id=t.id or 0,
                title=t.title,
                kind=str(t.kind),
                status=str(t.status),
                created_at=t.created_at,
                due=t.due,
                completed_at=t.completed_at,
                channel=t.channel_ref,
                assignees=tuple(people.get(t.id or 0, ())),
                priority=str(t.priority),
                workflow=first.get(t.id or 0),
            )
            for t in tasks
        ]

    async def run_facts(
        self, workspace_id: int, *, since: datetime, task_id: int | None = None
    ) -> list[RunFact]:
        """Ended attempts of the workspace's jobs scheduled since ``since``."""
        stmt = (
            sa.select(
                col(Run.task_id),
                col(Task.title),
                col(Run.status),
                col(Run.scheduled_for),
                col(Run.duration_ms),
                col(Run.attempt),
            )
            .join(Task, col(Task.id) == col(Run.task_id))
            .where(
                col(Task.workspace_id) == workspace_id,
                col(Run.scheduled_for) >= since,
                col(Run.status).in_(_ENDED),
            )
            .order_by(col(Run.scheduled_for), col(Run.id))
        )
        if task_id is not None:
            stmt = stmt.where(col(Run.task_id) == task_id)
        async with self._session() as session:
            rows = (await session.execute(stmt)).all()
        return [
            RunFact(
                task_id=r[0],
                title=r[1],
                status=str(r[2]),
                scheduled_for=r[3],
                duration_ms=r[4],
                attempt=r[5],
            )
            for r in rows
        ]


def _chunks(ids: list[int | None], size: int = 500) -> list[list[int]]:
    clean = [i for i in ids if i is not None]
    return [clean[n : n + size] for n in range(0, len(clean), size)]
