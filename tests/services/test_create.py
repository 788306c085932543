"""TaskService.create: defaults, time zones, schedules, assignees, dependencies, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.clock import ManualClock
from core.enums import Priority, TaskKind, TaskStatus
from core.models import Member, TaskCreate, Workspace
from core.schedule import OnceSchedule
from core.services.tasks import TaskService
from core.store import SqlStore

from .helpers import T0

if TYPE_CHECKING:
    from conftest import RecordingListener


async def test_create_minimal_task(
    task_service: TaskService, member: Member, listener: RecordingListener
) -> None:
    task = await task_service.create({"title": "  Send   the report "}, actor=member)
    assert task.title == "Send the report"
    assert task.status == TaskStatus.OPEN
    assert task.kind == TaskKind.TASK
    assert task.timezone == "Europe/Berlin"  # the actor's zone
    assert task.created_by == member.id == task.last_modified_by
    assert task.created_at == T0 == task.updated_at
    assert task.next_fire_at is None
    assert task.assignees == [] and task.depends_on == []
    assert listener.changed == [task.id]


async def test_zone_falls_back_to_the_workspace(
    task_service: TaskService, store: SqlStore, workspace: Workspace
) -> None:
    assert workspace.id is not None
    zoneless = await store.ensure_member(workspace.id, "U0099", display_name="zed")
    task = await task_service.create({"title": "t"}, actor=zoneless)
    assert task.timezone == "Europe/Berlin"  # workspace default
    explicit = await task_service.create({"title": "t", "timezone": "Asia/Tokyo"}, actor=zoneless)
    assert explicit.timezone == "Asia/Tokyo"


async def test_due_forms(task_service: TaskService, member: Member) -> None:
    expected = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
    forms = [
        "2026-03-05T17:00",  # naive: the task's zone (Berlin, UTC+1 in March)
        "2026-03-05T16:00:00Z",
        "2026-03-05T11:00-05:00",
        datetime(2026, 3, 5, 17, 0),  # naive datetime: task's zone too
        datetime(2026, 3, 5, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles")),
    ]
    for due in forms:
        task = await task_service.create({"title": "t", "due": due}, actor=member)
        assert task.due == expected, due
        assert task.due is not None and task.due.tzinfo == UTC
    tokyo = await task_service.create(
        {"title": "t", "due": "2026-03-06T01:00", "timezone": "Asia/Tokyo"}, actor=member
    )
    assert tokyo.due == expected


async def test_due_in_a_dst_gap_moves_forward(task_service: TaskService, member: Member) -> None:
    # 2026-03-29 02:30 does not exist in Berlin (clocks jump 02:00 → 03:00).
    task = await task_service.create({"title": "t", "due": "2026-03-29T02:30"}, actor=member)
    assert task.due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # = 03:30 CEST


async def test_once_schedule_sets_the_cursor(task_service: TaskService, member: Member) -> None:
    at = T0 + timedelta(hours=2)
    task = await task_service.create(
        TaskCreate(title="ping", kind=TaskKind.REMINDER, schedule={"kind": "once", "at": at}),
        actor=member,
    )
    assert task.next_fire_at == at
    assert task.schedule is not None
    assert task.schedule["timezone"] == "Europe/Berlin"  # no zone given: the task's
    assert task.kind == TaskKind.REMINDER


async def test_schedule_object_keeps_its_own_zone(
    task_service: TaskService, member: Member
) -> None:
    spec = OnceSchedule(at=T0 + timedelta(days=1), timezone="America/New_York")
    task = await task_service.create({"title": "t", "schedule": spec}, actor=member)
    assert task.schedule is not None and task.schedule["timezone"] == "America/New_York"
    default_zone = OnceSchedule(at=T0 + timedelta(days=1))
    task = await task_service.create({"title": "t", "schedule": default_zone}, actor=member)
    assert task.schedule is not None and task.schedule["timezone"] == "Europe/Berlin"


async def test_interval_without_start_is_anchored_at_creation(
    task_service: TaskService, member: Member, clock: ManualClock
) -> None:
    task = await task_service.create(
        {"title": "poll", "schedule": {"kind": "interval", "every_seconds": 3600}}, actor=member
    )
    assert task.schedule is not None
    assert task.schedule["start"] == "2026-03-02T09:00:00Z"
    assert task.next_fire_at == T0 + timedelta(hours=1)
    # Read back later, the stored anchor keeps the same grid.
    clock.advance(timedelta(minutes=90))
    again = await task_service.get(task.id, workspace_id=task.workspace_id)
    assert again.schedule == task.schedule


async def test_cron_and_event_schedules(task_service: TaskService, member: Member) -> None:
    weekly = await task_service.create(
        {"title": "standup", "schedule": {"kind": "cron", "cron": "0 9 * * mon"}}, actor=member
    )
    # T0 is Monday 10:00 Berlin: the next Monday 09:00 Berlin is 08:00 UTC a week later.
    assert weekly.next_fire_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    on_event = await task_service.create(
        {"title": "deploy", "schedule": {"kind": "event", "event": "ci.passed"}}, actor=member
    )
    assert on_event.next_fire_at is None
    disabled = await task_service.create(
        {"title": "off", "schedule": {"kind": "cron", "cron": "0 9 * * *"}, "enabled": False},
        actor=member,
    )
    assert disabled.next_fire_at is None


async def test_assignees_resolve_and_register(
    task_service: TaskService, store: SqlStore, member: Member, other_member: Member
) -> None:
    task = await task_service.create(
        {"title": "t", "assignees": ["me", "Bob", "carol", "U024BE7LH", "@U777AAAA", "alice"]},
        actor=member,
    )
    assert task.assignees == ["U0001", "U0002", "carol", "U024BE7LH", "U777AAAA"]
    carol = await store.find_member(member.workspace_id, "carol")
    assert carol is not None and carol.display_name == "carol"
    slack_user = await store.find_member(member.workspace_id, "U024BE7LH")
    assert slack_user is not None and slack_user.display_name == ""


async def test_dependencies(task_service: TaskService, member: Member) -> None:
    first = await task_service.create({"title": "a"}, actor=member)
    second = await task_service.create({"title": "b"}, actor=member)
    third = await task_service.create(
        {"title": "c", "depends_on": [first.id, f"#{second.id}", first.id]}, actor=member
    )
    assert third.depends_on == [first.id, second.id]


async def test_create_audit_event(
    task_service: TaskService, store: SqlStore, member: Member
) -> None:
    task = await task_service.create(
        {"title": "t", "priority": "high", "due": "2026-03-05T17:00"}, actor=member
    )
    [event] = await store.audit_for_task(task.id)
    assert (event.action, event.actor_id, event.task_id, event.at) == (
        "task.created", member.id, task.id, T0,
    )  # fmt: skip
    assert event.details is not None
    assert event.details["task"]["title"] == "t"
    assert event.details["task"]["priority"] == Priority.HIGH
    assert event.details["task"]["due"] == "2026-03-05T16:00:00Z"
