"""Store contract: the audit trail (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import Member, Task, Workspace
from core.store import SqlStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_audit_by_task_and_workspace(
    store: SqlStore, workspace: Workspace, member: Member, other_member: Member
) -> None:
    assert workspace.id is not None
    task = await store.insert_task(Task(workspace_id=workspace.id, title="t"))
    other_task = await store.insert_task(Task(workspace_id=workspace.id, title="u"))
    await store.add_audit(
        workspace_id=workspace.id,
        action="task.created",
        at=T0,
        actor_id=member.id,
        task_id=task.id,
        details={"title": "t"},
    )
    await store.add_audit(
        workspace_id=workspace.id,
        action="task.created",
        at=T0,
        actor_id=other_member.id,
        task_id=other_task.id,
    )
    await store.add_audit(
        workspace_id=workspace.id,
        action="task.updated",
        at=T0 + timedelta(minutes=1),
        actor_id=other_member.id,
        task_id=task.id,
        details={"changes": {"title": {"from": "t", "to": "t2"}}},
    )
    events = await store.audit_for_task(task.id, workspace_id=workspace.id)
    assert [(e.action, e.actor_id) for e in events] == [
        ("task.created", member.id),
        ("task.updated", other_member.id),
    ]
    assert events[1].details == {"changes": {"title": {"from": "t", "to": "t2"}}}
    assert events[1].at == T0 + timedelta(minutes=1)

    everything = await store.audit_for_workspace(workspace.id)
    assert [e.task_id for e in everything] == [task.id, other_task.id, task.id]
    assert [e.task_id for e in await store.audit_for_workspace(workspace.id, limit=2)] == [
        other_task.id,
        task.id,
    ]
    by_bob = await store.audit_for_workspace(workspace.id, actor_id=other_member.id)
    assert len(by_bob) == 2
    since = await store.audit_for_workspace(workspace.id, since=T0 + timedelta(seconds=1))
    assert [e.action for e in since] == ["task.updated"]

    other = await store.ensure_workspace(workspace.platform, "T-other")
    assert other.id is not None
    assert await store.audit_for_workspace(other.id) == []
    assert await store.audit_for_task(task.id, workspace_id=other.id) == []
