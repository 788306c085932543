"""One pause state machine: every surface pauses and resumes through
``TaskService.pause/resume`` (permission checked, audited, one resume rule)."""

from __future__ import annotations

from datetime import timedelta

from core.enums import Role, TaskStatus
from core.scheduler.engine import SchedulerEngine
from core.scheduler.scheduler import Scheduler
from core.store.runs import RunStore

from .conftest import Chat


async def _actions(chat: Chat, task_id: int) -> list[tuple[str, str]]:
    store = chat.kairos.store
    events = await store.audit_for_task(task_id)
    out = []
    for event in events:
        who = (await store.get_member(event.actor_id)).platform_user_id if event.actor_id else ""
        out.append((event.action, who))
    return out


async def test_chat_pause_and_resume_are_the_service_s(chat: Chat) -> None:
    await chat.say("remind me every day at 9 to water the plants")
    [task] = await chat.kairos.tasks.query(workspace_id=1)
    paused = await chat.say_one(f"pause {task.id}")
    assert "Paused" in paused.text
    stored = await chat.kairos.tasks.get(task.id, workspace_id=1)
    assert stored.status == TaskStatus.PAUSED and stored.next_fire_at is None
    await chat.say_one(f"resume {task.id}")
    resumed = await chat.kairos.tasks.get(task.id, workspace_id=1)
    assert resumed.status == TaskStatus.OPEN and resumed.next_fire_at is not None
    assert [a for a in await _actions(chat, task.id) if a[0] != "task.created"] == [
        ("task.paused", "ana"),
        ("task.resumed", "ana"),
    ]


async def test_a_viewer_cannot_pause_and_nothing_is_written(chat: Chat) -> None:
    await chat.say("list")  # the console workspace and ana exist
    ana = await chat.kairos.store.ensure_member(1, "ana")
    task = await chat.kairos.tasks.create(
        {"title": "water the plants", "schedule": {"kind": "cron", "cron": "0 9 * * *"}},
        actor=ana,
    )
    await chat.say("list", user="vic")  # vic becomes a member of the workspace
    vic = await chat.kairos.store.ensure_member(1, "vic")
    assert vic.id is not None
    await chat.kairos.store.update_member(vic.id, role=Role.VIEWER)
    refused = await chat.say_one(f"pause {task.id}", user="vic")
    assert "Viewers cannot" in refused.text
    assert (await chat.kairos.tasks.get(task.id, workspace_id=1)).status == TaskStatus.OPEN
    assert [a for a, _ in await _actions(chat, task.id)] == ["task.created"]


async def test_enabled_in_an_update_is_the_same_pause(chat: Chat) -> None:
    await chat.say("list")
    ana = await chat.kairos.store.ensure_member(1, "ana")
    task = await chat.kairos.tasks.create(
        {"title": "t", "schedule": {"kind": "cron", "cron": "0 9 * * *"}}, actor=ana
    )
    off = await chat.kairos.tasks.update(task.id, {"enabled": False}, actor=ana)
    assert off.status == TaskStatus.PAUSED and off.enabled and off.next_fire_at is None
    chat.clock.advance(timedelta(days=2))
    on = await chat.kairos.tasks.update(task.id, {"enabled": True}, actor=ana)
    # Resumed from now on: no catch-up of the fires missed while paused.
    assert on.status == TaskStatus.OPEN and on.next_fire_at is not None
    assert on.next_fire_at > chat.clock.now()
    assert [a for a, _ in await _actions(chat, task.id)] == [
        "task.created",
        "task.paused",
        "task.resumed",
    ]
    created_off = await chat.kairos.tasks.create(
        {"title": "u", "schedule": {"kind": "cron", "cron": "0 9 * * *"}, "enabled": False},
        actor=ana,
    )
    assert created_off.status == TaskStatus.PAUSED and created_off.next_fire_at is None


def test_the_scheduler_has_no_pause_of_its_own() -> None:
    for cls in (Scheduler, SchedulerEngine):
        assert not hasattr(cls, "pause") and not hasattr(cls, "resume")
    assert not hasattr(RunStore, "set_enabled")
