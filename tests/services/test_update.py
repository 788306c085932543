"""TaskService.update: partial changes, cursor, assignees, dependencies, audit of changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from core.clock import ManualClock
from core.enums import Priority
from core.models import Member, TaskUpdate
from core.services.tasks import TaskService
from core.store import SqlStore

from .helpers import T0

if TYPE_CHECKING:
    from conftest import RecordingListener


async def test_update_changes_only_given_fields(
    task_service: TaskService, member: Member, other_member: Member, clock: ManualClock,
    store: SqlStore, listener: RecordingListener,
) -> None:  # fmt: skip
    task = await task_service.create(
        {"title": "draft", "description": "d", "due": "2026-03-05T17:00"}, actor=member
    )
    clock.advance(timedelta(minutes=5))
    listener.changed.clear()
    updated = await task_service.update(
        task.id, TaskUpdate(title="final", priority=Priority.HIGH), actor=other_member
    )
    assert (updated.title, updated.priority, updated.description) == ("final", "high", "d")
    assert updated.due == task.due
    assert updated.updated_at == T0 + timedelta(minutes=5)
    assert updated.last_modified_by == other_member.id
    assert updated.created_by == member.id
    assert listener.changed == []  # nothing that moves fire times
    [_, event] = await store.audit_for_task(task.id)
    assert event.action == "task.updated" and event.actor_id == other_member.id
    assert event.details == {
        "changes": {"title": {"from": "draft", "to": "final"},
                    "priority": {"from": "normal", "to": "high"}}
    }  # fmt: skip


async def test_update_due_clear_and_naive_in_new_zone(
    task_service: TaskService, member: Member, listener: RecordingListener
) -> None:
    task = await task_service.create({"title": "t", "due": "2026-03-05T17:00"}, actor=member)
    moved = await task_service.update(
        task.id, {"due": "2026-03-05T17:00", "timezone": "America/New_York"}, actor=member
    )
    assert moved.timezone == "America/New_York"
    assert moved.due == datetime(2026, 3, 5, 22, 0, tzinfo=UTC)
    cleared = await task_service.update(task.id, {"due": None}, actor=member)
    assert cleared.due is None
    assert listener.changed == [task.id, task.id, task.id]


async def test_no_op_update_writes_nothing(
    task_service: TaskService, member: Member, store: SqlStore, listener: RecordingListener
) -> None:
    task = await task_service.create({"title": "same", "assignees": ["me"]}, actor=member)
    again = await task_service.update(
        task.id, {"title": " same ", "assignees": ["alice"], "depends_on": []}, actor=member
    )
    assert again == task
    assert len(await store.audit_for_task(task.id)) == 1
    assert listener.changed == [task.id]


async def test_schedule_change_moves_the_cursor(
    task_service: TaskService, member: Member, listener: RecordingListener, clock: ManualClock
) -> None:
    task = await task_service.create({"title": "t"}, actor=member)
    clock.advance(timedelta(hours=1))
    daily = await task_service.update(
        task.id, {"schedule": {"kind": "cron", "cron": "30 9 * * *"}}, actor=member
    )
    # 10:00 UTC = 11:00 Berlin; next 09:30 Berlin is tomorrow 08:30 UTC.
    assert daily.next_fire_at == datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
    off = await task_service.update(task.id, {"enabled": False}, actor=member)
    assert off.next_fire_at is None
    on = await task_service.update(task.id, {"enabled": True}, actor=member)
    assert on.next_fire_at == daily.next_fire_at
    gone = await task_service.update(task.id, {"schedule": None}, actor=member)
    assert gone.schedule is None and gone.next_fire_at is None
    assert listener.changed == [task.id] * 5


async def test_update_assignees_and_dependencies(
    task_service: TaskService, member: Member, other_member: Member, store: SqlStore
) -> None:
    a = await task_service.create({"title": "a"}, actor=member)
    b = await task_service.create({"title": "b"}, actor=member)
    c = await task_service.create({"title": "c", "assignees": ["me"]}, actor=member)
    updated = await task_service.update(
        c.id, {"assignees": ["bob", "dave"], "depends_on": [a.id, b.id]}, actor=member
    )
    assert updated.assignees == ["U0002", "dave"]
    assert updated.depends_on == [a.id, b.id]
    event = (await store.audit_for_task(c.id))[-1]
    assert event.details == {
        "changes": {
            "depends_on": {"from": [], "to": [a.id, b.id]},
            "assignees": {"from": ["U0001"], "to": ["U0002", "dave"]},
        }
    }
    fewer = await task_service.update(c.id, {"depends_on": [b.id], "assignees": []}, actor=member)
    assert (fewer.depends_on, fewer.assignees) == ([b.id], [])


async def test_moving_a_task_to_another_channel_leaves_its_card_behind(
    task_service: TaskService, member: Member, store: SqlStore
) -> None:
    task = await task_service.create({"title": "t", "channel_ref": "C0001"}, actor=member)
    await store.update_task(task.id, {"thread_ref": "1700000000.000001"})
    moved = await task_service.update(task.id, {"channel_ref": "C0002"}, actor=member)
    # The card is a message in C0001: the task in C0002 gets a card of its own.
    assert (moved.channel_ref, moved.thread_ref) == ("C0002", None)
    [*_, event] = await store.audit_for_task(task.id)
    assert event.details["changes"]["thread_ref"] == {"from": "1700000000.000001", "to": None}
    # Anything else changed keeps the card where it is.
    await store.update_task(task.id, {"thread_ref": "1700000000.000002"})
    renamed = await task_service.update(
        task.id, {"title": "u", "channel_ref": "C0002"}, actor=member
    )
    assert renamed.thread_ref == "1700000000.000002"
