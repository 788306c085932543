"""Store contract: tasks, assignees, dependencies and queries (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.enums import Priority, TaskKind, TaskStatus
from core.errors import NotFound
from core.models import Member, Task, Workspace
from core.store import SqlStore, TaskQuery

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _task(workspace: Workspace, title: str, **fields: Any) -> Task:
    assert workspace.id is not None
    return Task(workspace_id=workspace.id, title=title, created_at=T0, updated_at=T0, **fields)


async def test_insert_and_get_with_assignees_and_dependencies(
    store: SqlStore, workspace: Workspace, member: Member, other_member: Member
) -> None:
    assert member.id is not None and other_member.id is not None
    first = await store.insert_task(_task(workspace, "write report"))
    second = await store.insert_task(
        _task(workspace, "send report", schedule={"kind": "once", "at": "2026-03-03T09:00:00Z"}),
        assignee_ids=[other_member.id, member.id, member.id],
        depends_on=[first.id],
    )
    got = await store.get_task(second.id, workspace_id=workspace.id)
    assert got.assignees == ["U0001", "U0002"]
    assert got.depends_on == [first.id]
    assert got.schedule == {"kind": "once", "at": "2026-03-03T09:00:00Z"}
    assert got.status == TaskStatus.OPEN
    assert got.kind == TaskKind.TASK
    assert got.created_at == T0
    assert await store.dependency_edges(workspace.id or 0) == [(first.id, second.id)]


async def test_missing_and_foreign_tasks_are_not_found(
    store: SqlStore, workspace: Workspace
) -> None:
    other = await store.ensure_workspace(workspace.platform, "T-other")
    foreign = await store.insert_task(_task(other, "theirs"))
    for task_id, ws in [(4242, workspace.id), (foreign.id, workspace.id)]:
        assert await store.find_task(task_id, workspace_id=ws) is None
        with pytest.raises(NotFound) as info:
            await store.get_task(task_id, workspace_id=ws)
        assert info.value.user_message() == (
            f"Task #{task_id} does not exist. List your tasks to see their numbers."
        )
    with pytest.raises(NotFound):
        await store.update_task(foreign.id, {"title": "mine now"}, workspace_id=workspace.id)
    assert (await store.get_task(foreign.id)).title == "theirs"


async def test_update_task_fields_assignees_and_edges(
    store: SqlStore, workspace: Workspace, member: Member, other_member: Member
) -> None:
    assert member.id is not None and other_member.id is not None
    a = await store.insert_task(_task(workspace, "a"))
    b = await store.insert_task(_task(workspace, "b"), assignee_ids=[member.id], depends_on=[a.id])
    due = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)
    updated = await store.update_task(
        b.id,
        {"title": "b2", "due": due, "priority": Priority.HIGH},
        assignee_ids=[other_member.id],
        depends_on=[],
    )
    assert (updated.title, updated.due, updated.priority) == ("b2", due, Priority.HIGH)
    assert updated.assignees == ["U0002"]
    assert updated.depends_on == []
    untouched = await store.update_task(b.id, {"description": "x"})
    assert untouched.assignees == ["U0002"]
    with pytest.raises(ValueError, match="workspace_id"):
        await store.update_task(b.id, {"workspace_id": 99})


async def test_existing_task_ids_ignores_deleted_and_foreign(
    store: SqlStore, workspace: Workspace
) -> None:
    live = await store.insert_task(_task(workspace, "live"))
    gone = await store.insert_task(
        _task(workspace, "gone", deleted_at=T0, status=TaskStatus.DELETED)
    )
    other = await store.ensure_workspace(workspace.platform, "T-other")
    foreign = await store.insert_task(_task(other, "foreign"))
    assert workspace.id is not None
    found = await store.existing_task_ids(workspace.id, [live.id, gone.id, foreign.id, 999])
    assert found == {live.id}
    assert await store.existing_task_ids(workspace.id, []) == set()


@pytest.fixture
async def seeded(
    store: SqlStore, workspace: Workspace, member: Member, other_member: Member
) -> dict[str, int]:
    """A small board: overdue, due later, undated, done, deleted, and another workspace."""
    assert member.id is not None and other_member.id is not None
    rows = {
        "late": _task(
            workspace, "Pay invoice", due=T0 - timedelta(days=2), priority=Priority.URGENT
        ),
        "later": _task(
            workspace, "Renew domain", due=T0 + timedelta(days=3), kind=TaskKind.REMINDER
        ),
        "soon": _task(
            workspace,
            "Standup notes",
            due=T0 + timedelta(hours=1),
            description="Write the 50% summary",
        ),
        "undated": _task(workspace, "Think about roadmap"),
        "late2": _task(workspace, "Call bank", due=T0 - timedelta(hours=1)),
        "done": _task(
            workspace,
            "Old invoice",
            due=T0 - timedelta(days=5),
            status=TaskStatus.DONE,
            completed_at=T0 - timedelta(days=4),
        ),
        "deleted": _task(workspace, "Deleted invoice", status=TaskStatus.DELETED, deleted_at=T0),
    }
    assignees = {
        "late": [member.id],
        "soon": [member.id, other_member.id],
        "later": [other_member.id],
    }
    ids = {}
    for key, row in rows.items():
        ids[key] = (await store.insert_task(row, assignee_ids=assignees.get(key, []))).id
    other = await store.ensure_workspace(workspace.platform, "T-other")
    ids["foreign"] = (
        await store.insert_task(_task(other, "Pay invoice", due=T0 - timedelta(days=9)))
    ).id
    return ids


async def _titles(store: SqlStore, workspace: Workspace, **filters: Any) -> list[str]:
    assert workspace.id is not None
    found = await store.query_tasks(workspace.id, TaskQuery(**filters), now=T0)
    return [t.title for t in found]


async def test_query_default_order_overdue_then_due_then_undated(
    store: SqlStore, workspace: Workspace, seeded: dict[str, int]
) -> None:
    assert await _titles(store, workspace) == [
        "Pay invoice",
        "Call bank",  # overdue, oldest first
        "Old invoice",
        "Standup notes",
        "Renew domain",  # then by due (done is not overdue)
        "Think about roadmap",  # undated last
    ]


async def test_query_filters(store: SqlStore, workspace: Workspace, seeded: dict[str, int]) -> None:
    assert await _titles(store, workspace, statuses={TaskStatus.DONE}) == ["Old invoice"]
    assert await _titles(store, workspace, statuses={"deleted"}) == ["Deleted invoice"]
    assert "Deleted invoice" in await _titles(store, workspace, include_deleted=True)
    assert await _titles(store, workspace, overdue_at=T0) == ["Pay invoice", "Call bank"]
    assert await _titles(store, workspace, kinds={TaskKind.REMINDER}) == ["Renew domain"]
    assert await _titles(store, workspace, priorities={Priority.URGENT}) == ["Pay invoice"]
    assert await _titles(store, workspace, due_after=T0, due_before=T0 + timedelta(days=1)) == [
        "Standup notes"
    ]
    assert await _titles(store, workspace, text="INVOICE") == ["Pay invoice", "Old invoice"]
    # Wildcards in the search text are literal characters, not patterns.
    assert await _titles(store, workspace, text="50%") == ["Standup notes"]
    assert await _titles(store, workspace, text="%") == ["Standup notes"]
    assert await _titles(store, workspace, text="_") == []
    assert await _titles(store, workspace, assignee="alice") == ["Pay invoice", "Standup notes"]
    assert await _titles(store, workspace, assignee="U0002") == ["Standup notes", "Renew domain"]
    assert await _titles(store, workspace, assignee="@U0002") == ["Standup notes", "Renew domain"]
    assert await _titles(store, workspace, assignee="nobody") == []
    assert await _titles(store, workspace, limit=2, offset=1) == ["Call bank", "Old invoice"]


async def test_scheduled_tasks_and_cursor(store: SqlStore, workspace: Workspace) -> None:
    fire = T0 + timedelta(minutes=5)
    a = await store.insert_task(_task(workspace, "a", next_fire_at=fire + timedelta(minutes=1)))
    b = await store.insert_task(_task(workspace, "b", next_fire_at=fire))
    await store.insert_task(_task(workspace, "paused", next_fire_at=fire, enabled=False))
    await store.insert_task(_task(workspace, "done", next_fire_at=fire, status=TaskStatus.DONE))
    await store.insert_task(_task(workspace, "unscheduled"))
    assert [t.id for t in await store.scheduled_tasks()] == [b.id, a.id]
    assert [t.id for t in await store.scheduled_tasks(before=fire + timedelta(seconds=1))] == [b.id]
    later = fire + timedelta(hours=1)
    assert await store.set_next_fire_at(b.id, later, expected=fire, check=True)
    assert not await store.set_next_fire_at(b.id, fire, expected=fire, check=True)
    assert (await store.get_task(b.id)).next_fire_at == later
    assert await store.set_next_fire_at(b.id, None)
    assert [t.id for t in await store.scheduled_tasks()] == [a.id]


async def test_soft_delete_and_restore(
    store: SqlStore, workspace: Workspace, member: Member
) -> None:
    fire = T0 + timedelta(hours=1)
    task = await store.insert_task(_task(workspace, "t", next_fire_at=fire))
    gone = await store.soft_delete_task(
        task.id, at=T0, workspace_id=workspace.id, actor_id=member.id
    )
    assert (gone.status, gone.deleted_at, gone.next_fire_at) == (TaskStatus.DELETED, T0, None)
    assert gone.last_modified_by == member.id
    assert await _titles(store, workspace) == []
    assert await store.scheduled_tasks() == []
    back = await store.restore_task(task.id, status=TaskStatus.OPEN, at=T0, next_fire_at=fire)
    assert (back.status, back.deleted_at, back.next_fire_at) == (TaskStatus.OPEN, None, fire)
    assert await _titles(store, workspace) == ["t"]
    other = await store.ensure_workspace(workspace.platform, "T-other")
    with pytest.raises(NotFound):
        await store.soft_delete_task(task.id, at=T0, workspace_id=other.id)


async def test_query_by_thread_and_channel(store: SqlStore, workspace: Workspace) -> None:
    await store.insert_task(_task(workspace, "a", channel_ref="C1", thread_ref="1700.1"))
    await store.insert_task(_task(workspace, "b", channel_ref="C1", thread_ref="1700.2"))
    await store.insert_task(_task(workspace, "c", channel_ref="C2"))
    assert await _titles(store, workspace, thread_ref="1700.2") == ["b"]
    assert await _titles(store, workspace, channel_ref="C1") == ["a", "b"]
    assert await _titles(store, workspace, thread_ref="nope") == []


async def test_insert_hands_back_what_a_read_returns(
    store: SqlStore, workspace: Workspace, member: Member, other_member: Member
) -> None:
    """``insert_task`` builds its result without reading the row back: it must still be
    exactly what the database returns (UTC datetimes, JSON as decoded, sorted links)."""
    from zoneinfo import ZoneInfo

    assert workspace.id is not None and member.id is not None and other_member.id is not None
    first = await store.insert_task(_task(workspace, "first"))
    berlin = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    created = await store.insert_task(
        {
            "workspace_id": workspace.id,
            "title": "mapping",
            "due": berlin,
            "next_fire_at": berlin + timedelta(hours=1),
            "schedule": {"kind": "once", "at": "2026-03-29T01:30:00", "nested": (1, {"a": None})},
            "action": {"type": "noop"},
            "created_at": T0,
            "updated_at": T0,
        },
        assignee_ids=[other_member.id, member.id, other_member.id],
        depends_on=[first.id, first.id],
    )
    got = await store.get_task(created.id)
    assert created == got
    assert created.due is not None and created.due.tzinfo == UTC
    assert created.schedule == {
        "kind": "once",
        "at": "2026-03-29T01:30:00",
        "nested": [1, {"a": None}],
    }
    assert created.assignees == ["U0001", "U0002"] and created.depends_on == [first.id]
    # Left-out fields take the model's defaults, as a ``Task`` object would.
    assert (created.kind, created.status, created.priority) == (
        TaskKind.TASK,
        TaskStatus.OPEN,
        Priority.NORMAL,
    )
    with pytest.raises(ValueError, match="not insertable"):
        await store.insert_task({"workspace_id": workspace.id, "title": "x", "bogus": 1})
