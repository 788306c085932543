"""A burst of fired one-off reminders: marked done and remembered in shared commits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from core.clock import ManualClock
from core.enums import TaskStatus
from core.models import Member, Workspace
from core.services.conversation import ConversationMemory
from core.services.tasks import TaskService
from core.store import Remembered, SqlStore

ONCE_LATER = {"kind": "once", "at": "2026-03-02T10:00:00+00:00"}


class BatchListener:
    """An engine-like listener: takes a new task's cursor and many changes at once."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def task_changed(self, task_id: int) -> None:
        self.batches.append([task_id])

    async def task_created(self, task_id: int, next_fire_at: datetime | None) -> None:
        pass

    async def tasks_changed(self, task_ids: Sequence[int]) -> None:
        self.batches.append(sorted(task_ids))


async def test_concurrent_fired_reminders_are_all_done_audited_and_told_together(
    store: SqlStore, clock: ManualClock, member: Member
) -> None:
    listener = BatchListener()
    service = TaskService(store=store, clock=clock, listener=listener)
    tasks = [
        await service.create({"title": f"r{i}", "schedule": ONCE_LATER}, actor=member)
        for i in range(40)
    ]
    paused = await service.pause(tasks[0].id, actor=member)
    listener.batches.clear()
    clock.advance(timedelta(hours=1))

    finished = await asyncio.gather(*(service.finish_fired(t.id) for t in tasks))

    assert finished == [False] + [True] * 39  # the paused one is left as it was
    assert (await store.get_task(paused.id)).status == TaskStatus.PAUSED
    for task in tasks[1:]:
        done = await store.get_task(task.id)
        assert (done.status, done.next_fire_at) == (TaskStatus.DONE, None)
        assert done.completed_at == clock.now()
        audit = await store.audit_for_task(task.id)
        assert [(a.action, a.details.get("by")) for a in audit][-1] == ("task.completed", "fired")
    told = [i for batch in listener.batches for i in batch]
    assert sorted(told) == sorted(t.id for t in tasks[1:])
    assert len(listener.batches) < len(tasks) - 1  # shared, not one call per reminder
    # Fired again (a retry of the same fire): nothing changes, nothing is audited twice.
    assert await service.finish_fired(tasks[1].id) is False
    assert len(await store.audit_for_task(tasks[1].id)) == 2  # created, completed


async def test_a_burst_of_fired_reminders_is_remembered_for_snooze(
    store: SqlStore, clock: ManualClock, workspace: Workspace
) -> None:
    ws = workspace.id or 0
    memory = ConversationMemory(store=store, clock=clock)
    await asyncio.gather(
        *(
            memory.reminder_fired(workspace_id=ws, place=f"dm:U{i}", person=f"U{i}", task_id=i)
            for i in range(1, 31)
        ),
        # The same place fired twice in one burst: the later reminder is what "snooze" means.
        memory.reminder_fired(workspace_id=ws, place="eng", person=None, task_id=100),
        memory.reminder_fired(workspace_id=ws, place="eng", person=None, task_id=101),
    )
    for i in range(1, 31):
        assert await memory.last_fired(workspace_id=ws, place=f"dm:U{i}", person=f"U{i}") == i
        assert await memory.last_discussed(workspace_id=ws, place=f"dm:U{i}", person=f"U{i}") == i
    assert await memory.last_fired(workspace_id=ws, place="eng", person="U9") == 101


async def test_many_memories_with_one_key_store_the_last(
    store: SqlStore, clock: ManualClock, workspace: Workspace
) -> None:
    """One statement on PostgreSQL cannot upsert a key twice: the last of a key wins."""
    ws = workspace.id or 0
    later = clock.now() + timedelta(minutes=5)
    await store.remember_states(
        [
            Remembered(ws, "eng", "U1", "fired", later, task_id=1),
            Remembered(ws, "eng", "U2", "fired", later, task_id=2),
            Remembered(ws, "eng", "U1", "fired", later, task_id=3),
        ]
    )
    found = await store.recall_state(
        workspace_id=ws, place="eng", person="U1", kind="fired", now=clock.now()
    )
    assert found is not None and found.task_id == 3
    await store.remember_states([])  # nothing to write: no statement, no error
