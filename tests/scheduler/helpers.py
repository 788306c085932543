"""Small helpers shared by the scheduler tests (rows written directly, no service)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.db import Database
from core.enums import MisfirePolicy, TaskKind
from core.models import Task


async def add_task(
    db: Database,
    workspace_id: int,
    *,
    schedule: dict[str, Any] | None,
    next_fire_at: datetime | None,
    kind: TaskKind = TaskKind.JOB,
    action: dict[str, Any] | None = None,
    retry_policy: dict[str, Any] | None = None,
    misfire_policy: MisfirePolicy = MisfirePolicy.RUN_ONCE,
    grace: int = 3600,
    title: str = "t",
) -> int:
    async with db.session() as session:
        task = Task(
            workspace_id=workspace_id,
            kind=kind,
            title=title,
            schedule=schedule,
            next_fire_at=next_fire_at,
            action=action if action is not None else {"type": "noop"},
            retry_policy=retry_policy,
            misfire_policy=misfire_policy,
            misfire_grace_seconds=grace,
        )
        session.add(task)
        await session.flush()
        assert task.id is not None
        return task.id


def once(at: datetime) -> dict[str, Any]:
    return {"kind": "once", "at": at.isoformat(), "timezone": "UTC"}


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
