"""Complete / reopen / pause / resume / delete / restore, and the audit trail in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from core.clock import ManualClock
from core.enums import TaskStatus
from core.errors import InvalidInput, NotFound
from core.models import Member
from core.services.tasks import TaskService
from core.store import SqlStore, TaskQuery

from .helpers import T0

if TYPE_CHECKING:
    from conftest import RecordingListener

DAILY = {"kind": "cron", "cron": "0 12 * * *"}  # 12:00 Berlin = 11:00 UTC in March


async def test_complete_and_reopen(
    task_service: TaskService, member: Member, clock: ManualClock, listener: RecordingListener
) -> None:
    task = await task_service.create({"title": "t", "schedule": DAILY}, actor=member)
    assert task.next_fire_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    clock.advance(timedelta(days=1))
    done = await task_service.complete(task.id, actor=member)
    assert done.status == TaskStatus.DONE
    assert done.completed_at == T0 + timedelta(days=1)
    assert done.next_fire_at is None
    assert await task_service.complete(task.id, actor=member) == done  # twice: harmless
    clock.advance(timedelta(hours=3))  # 13:00 UTC on the 3rd
    reopened = await task_service.reopen(task.id, actor=member)
    assert reopened.status == TaskStatus.OPEN and reopened.completed_at is None
    assert reopened.next_fire_at == datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
    assert listener.changed == [task.id] * 3


async def test_pause_and_resume(task_service: TaskService, member: Member) -> None:
    task = await task_service.create({"title": "t", "schedule": DAILY}, actor=member)
    paused = await task_service.pause(task.id, actor=member)
    assert (paused.status, paused.next_fire_at) == (TaskStatus.PAUSED, None)
    resumed = await task_service.resume(task.id, actor=member)
    assert (resumed.status, resumed.next_fire_at) == (TaskStatus.OPEN, task.next_fire_at)
    done = await task_service.complete(task.id, actor=member)
    with pytest.raises(InvalidInput) as info:
        await task_service.pause(done.id, actor=member)
    assert info.value.user_message() == (
        f"Task #{task.id} is done; it cannot be paused. Reopen or resume it first."
    )
    with pytest.raises(InvalidInput) as info:
        await task_service.resume(done.id, actor=member)
    assert info.value.user_message() == (
        f"Task #{task.id} is done; it cannot be resumed. Reopen or resume it first."
    )


async def test_delete_hides_and_restore_brings_back(
    task_service: TaskService, member: Member, listener: RecordingListener
) -> None:
    task = await task_service.create({"title": "t", "schedule": DAILY}, actor=member)
    await task_service.pause(task.id, actor=member)
    deleted = await task_service.delete(task.id, actor=member)
    assert deleted.status == TaskStatus.DELETED
    assert deleted.deleted_at == T0 and deleted.next_fire_at is None
    assert await task_service.query(workspace_id=member.workspace_id) == []
    # Still readable by id (and recoverable) ...
    assert (await task_service.get(task.id, workspace_id=member.workspace_id)).title == "t"
    # ... but not changeable.
    with pytest.raises(NotFound) as info:
        await task_service.update(task.id, {"title": "x"}, actor=member)
    assert info.value.user_message() == (
        f"Task #{task.id} was deleted. Restore it first ('restore #{task.id}') "
        "if you want to change it."
    )
    with pytest.raises(NotFound):
        await task_service.complete(task.id, actor=member)
    assert await task_service.delete(task.id, actor=member) == deleted  # twice: harmless
    restored = await task_service.restore(task.id, actor=member)
    assert restored.status == TaskStatus.PAUSED  # what it was before the delete
    assert restored.deleted_at is None
    assert await task_service.restore(task.id, actor=member) == restored
    resumed = await task_service.resume(task.id, actor=member)
    assert resumed.next_fire_at == task.next_fire_at
    assert listener.changed == [task.id] * 5


async def test_restore_of_an_open_task_reschedules(
    task_service: TaskService, member: Member
) -> None:
    task = await task_service.create({"title": "t", "schedule": DAILY}, actor=member)
    await task_service.delete(task.id, actor=member)
    restored = await task_service.restore(task.id, actor=member)
    assert (restored.status, restored.next_fire_at) == (TaskStatus.OPEN, task.next_fire_at)


async def test_audit_trail_records_who_did_what_in_order(
    task_service: TaskService, store: SqlStore, member: Member, other_member: Member,
    clock: ManualClock,
) -> None:  # fmt: skip
    task = await task_service.create({"title": "t"}, actor=member)
    steps = [
        (task_service.update(task.id, {"title": "t2"}, actor=other_member)),
        (task_service.complete(task.id, actor=other_member)),
        (task_service.reopen(task.id, actor=member)),
        (task_service.pause(task.id, actor=member)),
        (task_service.resume(task.id, actor=other_member)),
        (task_service.delete(task.id, actor=member)),
        (task_service.restore(task.id, actor=other_member)),
    ]
    for step in steps:
        clock.advance(timedelta(minutes=1))
        await step
    events = await task_service.history(task.id, workspace_id=member.workspace_id)
    assert [(e.action, e.actor_id) for e in events] == [
        ("task.created", member.id),
        ("task.updated", other_member.id),
        ("task.completed", other_member.id),
        ("task.reopened", member.id),
        ("task.paused", member.id),
        ("task.resumed", other_member.id),
        ("task.deleted", member.id),
        ("task.restored", other_member.id),
    ]
    assert [e.at for e in events] == [T0 + timedelta(minutes=i) for i in range(8)]
    assert all(e.task_id == task.id and e.workspace_id == member.workspace_id for e in events)
    assert events[2].details == {"changes": {"status": {"from": "open", "to": "done"}}}
    assert events[6].details == {"changes": {"status": {"from": "open", "to": "deleted"}}}
    assert events[7].details == {"changes": {"status": {"from": "deleted", "to": "open"}}}
    assert [e.action for e in await store.audit_for_workspace(member.workspace_id)] == [
        e.action for e in events
    ]


async def test_query_through_the_service(
    task_service: TaskService, member: Member, other_member: Member
) -> None:
    late = await task_service.create(
        {"title": "late", "due": T0 - timedelta(hours=1), "assignees": ["me"]}, actor=member
    )
    soon = await task_service.create(
        {"title": "soon", "due": T0 + timedelta(hours=1), "assignees": ["bob"]}, actor=member
    )
    undated = await task_service.create({"title": "undated"}, actor=member)
    ws = member.workspace_id
    assert [t.id for t in await task_service.query(workspace_id=ws)] == [
        late.id,
        soon.id,
        undated.id,
    ]
    mine = await task_service.query(TaskQuery(assignee="me"), workspace_id=ws, actor=other_member)
    assert [t.id for t in mine] == [soon.id]
    overdue = await task_service.query(TaskQuery(overdue_at=T0), workspace_id=ws)
    assert [t.id for t in overdue] == [late.id]
    with pytest.raises(InvalidInput) as info:
        await task_service.query(TaskQuery(assignee="me"), workspace_id=ws)
    assert info.value.user_message() == (
        "'me' as an assignee needs to know who is asking. Name the person instead."
    )
