"""Concurrent service calls (as from parallel chat events) each commit whole and alone."""

from __future__ import annotations

import asyncio

from core.models import Member
from core.services.tasks import TaskService
from core.store import SqlStore


async def test_parallel_creates_and_updates(
    task_service: TaskService, store: SqlStore, member: Member, other_member: Member
) -> None:
    created = await asyncio.gather(
        *(
            task_service.create(
                {"title": f"task {i}", "assignees": ["me", f"new{i % 3}"]},
                actor=member if i % 2 else other_member,
            )
            for i in range(12)
        )
    )
    assert len({t.id for t in created}) == 12
    await asyncio.gather(
        *(task_service.update(t.id, {"title": f"{t.title}!"}, actor=member) for t in created),
        *(task_service.complete(t.id, actor=other_member) for t in created[:6]),
    )
    tasks = await task_service.query(workspace_id=member.workspace_id)
    assert sorted(t.title for t in tasks) == sorted(f"task {i}!" for i in range(12))
    # Each change wrote exactly its own audit event.
    events = await store.audit_for_workspace(member.workspace_id)
    assert len(events) == 12 + 12 + 6
    # The three newcomers were registered once each, despite the races.
    names = [m.platform_user_id for m in await store.list_members(member.workspace_id)]
    assert sorted(names) == ["U0001", "U0002", "new0", "new1", "new2"]
